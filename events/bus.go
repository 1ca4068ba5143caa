package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/pycotr/pycotr/chain"
)

// ServiceName is the NATS micro service every node registers; one instance
// per node, so `nats micro ls` lists the nodes.
const ServiceName = "pycotr-node"

// ServiceVersion is the micro service's semantic version.
const ServiceVersion = "1.0.0"

// Drop reasons, as counted in metrics.
const (
	DropTooLarge     = "too-large"
	DropDecode       = "decode"
	DropVersion      = "version"
	DropNoHeader     = "missing-header"
	DropSlowConsumer = "slow-consumer"
	DropBadHeader    = "bad-header" // a Pycotr-Node that is not a subject token, or our own id
	DropPanic        = "panic"      // a handler panicked: a bug, but not a crash
	// DropBadSignature: a beat or reply that must be signed (presence,
	// consensus and info) whose Pycotr-Key does not hash to its Pycotr-Node,
	// or whose Pycotr-Sig is missing or does not verify.
	DropBadSignature = "bad-signature"
	DropIDMismatch   = "id-mismatch"     // a signed reply whose body names another node than its Pycotr-Node
	DropDuplicate    = "duplicate-reply" // a second reply from one node to one consensus request
	DropRefused      = "refused"         // refused by Handlers.PresenceWanted before its signature was checked
)

// BusConfig configures a node's connection to NATS.
type BusConfig struct {
	Servers  []string // external server URLs (first preferred, the others fail-over)
	Embedded *Server  // used, in-process, when Servers is empty
	// Auth are the credentials and TLS settings for Servers; an in-process
	// connection to Embedded uses the embedded server's own credentials.
	Auth ClientAuth
	// Identity signs the node's presence beats and its consensus and info
	// replies; its id is the bus's NodeID. nil for a client that is not a
	// node (it can still publish transactions and blocks with a NodeID).
	Identity *Identity
	NodeID   string // sent in Pycotr-Node; set from Identity when it is given
	Name     string // connection name, shown by the server
	Subjects Subjects
	Logger   *slog.Logger
	// OnConnState, if set, is called on disconnect (false) and reconnect (true).
	OnConnState func(connected bool)
	// OnDrop, if set, is called for each inbound message dropped before it
	// reached a handler, with the subject and one of the Drop reasons.
	OnDrop func(subject, reason string)
	// Tap, if set, records every message sent and received (tap.go).
	Tap *Tap
}

// Bus is one node's NATS connection and everything it does with it.
type Bus struct {
	cfg  BusConfig
	nc   *nats.Conn
	log  *slog.Logger
	subs []*nats.Subscription

	mu  sync.Mutex
	svc micro.Service

	// handlers is read-held by each inbound handler while it runs; Close
	// takes it for good, so no handler runs after Close returns.
	handlers sync.RWMutex
	closed   chan struct{} // closed when the connection is closed
	closing  atomic.Bool
	isolated atomic.Bool // cut off the network (isolation.go)
}

// drainTimeout bounds how long Close lets in-flight handlers finish.
const drainTimeout = 5 * time.Second

// Connect opens the connection: named after the node, no echo of its own
// messages, reconnecting forever with backoff.
func Connect(cfg BusConfig) (*Bus, error) {
	if cfg.Subjects.Prefix == "" {
		cfg.Subjects.Prefix = DefaultPrefix
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if id := cfg.Identity; id != nil {
		if cfg.NodeID != "" && cfg.NodeID != id.ID() {
			return nil, fmt.Errorf("nats: node id %q is not the identity's %q", cfg.NodeID, id.ID())
		}
		cfg.NodeID = id.ID()
	}
	b := &Bus{cfg: cfg, log: cfg.Logger, closed: make(chan struct{})}
	var closeOnce sync.Once
	opts := []nats.Option{
		nats.Name(cfg.Name),
		// A TLS handshake (and a first connection) across a slow link or to
		// a busy server needs more than nats.go's 2 s.
		nats.Timeout(5 * time.Second),
		nats.NoEcho(),
		nats.MaxReconnects(-1),
		// Servers are listed first preferred (BusConfig.Servers); nats.go
		// shuffles the pool unless told not to.
		nats.DontRandomize(),
		nats.CustomReconnectDelay(func(attempts int) time.Duration {
			return min(time.Duration(attempts+1)*100*time.Millisecond, 2*time.Second)
		}),
		nats.ReconnectBufSize(32 << 20),
		nats.DrainTimeout(drainTimeout),
		nats.ClosedHandler(func(*nats.Conn) { closeOnce.Do(func() { close(b.closed) }) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			b.log.Warn("nats disconnected", "err", err)
			if cfg.OnConnState != nil {
				cfg.OnConnState(false)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "server", nc.ConnectedUrlRedacted())
			if cfg.OnConnState != nil {
				cfg.OnConnState(true)
			}
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if errors.Is(err, nats.ErrSlowConsumer) && sub != nil {
				b.drop(sub.Subject, DropSlowConsumer)
				return
			}
			b.log.Warn("nats async error", "err", err)
		}),
	}
	url, auth := strings.Join(cfg.Servers, ","), cfg.Auth
	switch {
	case len(cfg.Servers) > 0:
	case cfg.Embedded != nil:
		opts = append(opts, nats.InProcessServer(cfg.Embedded.inProcess()))
		auth = cfg.Embedded.clientAuth()
	default:
		return nil, errors.New("nats: no server URL and no embedded server")
	}
	authOpts, err := auth.options()
	if err != nil {
		return nil, err
	}
	opts = append(opts, authOpts...)
	// One attempt first: credentials or a certificate the server refuses
	// are a configuration error to report now, not a reason to retry for
	// ever. Any other failure (a server not up yet) is retried.
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		if kind := classify(err); kind != nil {
			return nil, fmt.Errorf("nats connect %s: %w: %w", redact(url), kind, err)
		}
		nc, err = nats.Connect(url, append(opts, nats.RetryOnFailedConnect(true))...)
	}
	if err != nil {
		return nil, fmt.Errorf("nats connect %s: %w", redact(url), err)
	}
	b.nc = nc
	return b, nil
}

// redact hides the passwords of URLs written nats://user:password@host.
func redact(urls string) string {
	out := strings.Split(urls, ",")
	for i, s := range out {
		if u, err := neturl.Parse(s); err == nil && u.User != nil {
			if _, has := u.User.Password(); has {
				out[i] = u.Redacted()
			}
		}
	}
	return strings.Join(out, ",")
}

// Connected reports whether the connection is up.
func (b *Bus) Connected() bool { return b.nc.IsConnected() }

// MaxPayload is the server's max payload, 0 while never connected.
func (b *Bus) MaxPayload() int64 { return b.nc.MaxPayload() }

// Subjects returns the subject names in use.
func (b *Bus) Subjects() Subjects { return b.cfg.Subjects }

func (b *Bus) drop(subject, reason string) {
	b.log.Debug("dropped message", "subject", subject, "reason", reason)
	if b.cfg.OnDrop != nil {
		b.cfg.OnDrop(subject, reason)
	}
}

func (b *Bus) header() nats.Header {
	h := nats.Header{}
	h.Set(HeaderVersion, ProtocolVersion)
	if b.cfg.NodeID != "" {
		h.Set(HeaderNode, b.cfg.NodeID)
	}
	return h
}

// signedHeader is our headers with a signature of body as kind.
func (b *Bus) signedHeader(kind string, body []byte) nats.Header {
	h := b.header()
	b.cfg.Identity.Sign(h, kind, body)
	return h
}

// errNoIdentity: signed messages need the bus's Identity.
var errNoIdentity = errors.New("the bus has no node identity")

// publish sends v on subject, signed as kind unless kind is "".
func (b *Bus) publish(subject, kind string, v any) error {
	data, err := Encode(v)
	if err != nil {
		return err
	}
	return b.publishData(subject, kind, data, v)
}

// publishData sends data, v encoded, on subject, signed as kind unless
// kind is "".
func (b *Bus) publishData(subject, kind string, data []byte, v any) error {
	b.tapOut(subject, len(data), v)
	if b.Isolated() {
		return nil // cut off: dropped, as if sent to nobody
	}
	h := b.header()
	if kind != "" {
		if b.cfg.Identity == nil {
			return fmt.Errorf("publish %s: %w", subject, errNoIdentity)
		}
		h = b.signedHeader(kind, data)
	}
	if err := b.nc.PublishMsg(&nats.Msg{Subject: subject, Data: data, Header: h}); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}

// PublishTx announces a transaction accepted into this node's mempool.
func (b *Bus) PublishTx(tx *chain.Tx) error {
	return b.publish(b.cfg.Subjects.Tx(), "", TxMessage{Tx: *tx})
}

// PublishTxs announces transactions accepted into this node's mempool: a
// lone one as PublishTx does, several in as few TxBatchMessages as their
// bounds allow (MaxTxBatch transactions, MaxTxBatchMessage bytes).
func (b *Bus) PublishTxs(txs []*chain.Tx) error {
	switch len(txs) {
	case 0:
		return nil
	case 1:
		return b.PublishTx(txs[0])
	}
	var errs []error
	var chunk []*chain.Tx
	size := 0
	for _, tx := range txs {
		n := tx.Size() + txJSONOverhead
		if len(chunk) == MaxTxBatch || (len(chunk) > 0 && size+n > MaxTxBatchMessage) {
			errs = append(errs, b.publishTxBatch(chunk))
			chunk, size = nil, 0
		}
		chunk = append(chunk, tx)
		size += n
	}
	errs = append(errs, b.publishTxBatch(chunk))
	return errors.Join(errs...)
}

// txJSONOverhead is about what a transaction's JSON adds to its Size: the
// field names and quotes. PublishTxs sizes batches with it; a batch whose
// JSON is larger after all (escaped text) is split in two.
const txJSONOverhead = 160

// publishTxBatch sends txs as one TxBatchMessage, or as two halves if its
// encoding exceeds MaxTxBatchMessage; a lone transaction as a TxMessage.
func (b *Bus) publishTxBatch(txs []*chain.Tx) error {
	if len(txs) == 1 {
		return b.PublishTx(txs[0])
	}
	m := TxBatchMessage{Txs: make([]chain.Tx, len(txs))}
	for i, tx := range txs {
		m.Txs[i] = *tx
	}
	data, err := Encode(m)
	if err != nil {
		return err
	}
	if len(data) > MaxTxBatchMessage {
		return errors.Join(b.publishTxBatch(txs[:len(txs)/2]), b.publishTxBatch(txs[len(txs)/2:]))
	}
	return b.publishData(b.cfg.Subjects.Txs(), "", data, m)
}

// PublishBlock announces a block this node mined or adopted.
func (b *Bus) PublishBlock(blk *chain.Block) error {
	return b.publish(b.cfg.Subjects.Block(), "", BlockMessage{Block: *blk, Hash: blk.Hash()})
}

// PublishPresence sends a presence beat, signed.
func (b *Bus) PublishPresence(s *NodeState) error {
	return b.publish(b.cfg.Subjects.Presence(), KindPresence, s)
}

// Flush waits until the NATS server has processed everything this
// connection published before the call: a PING after them, answered by a
// PONG. What the server processed reaches every subscriber connected to
// it (or to its cluster) even if this process dies next.
func (b *Bus) Flush(timeout time.Duration) error {
	if err := b.nc.FlushTimeout(timeout); err != nil {
		return fmt.Errorf("nats flush: %w", err)
	}
	return nil
}

// Handlers receive decoded messages from other nodes. Each is called from
// one goroutine per subject, in arrival order. A presence beat reaches its
// handler only when its signature is good: from is then the id its key
// hashes to.
type Handlers struct {
	Tx       func(from string, tx *chain.Tx)
	Block    func(from string, blk *chain.Block)
	Presence func(from string, s *NodeState)
	// PresenceWanted, if set, is asked before a beat's signature is checked
	// (the costly step) whether a beat from that sender would be used at
	// all; a beat it refuses is dropped as DropRefused. It lets a flood of
	// new ids cost a node no signature checks once its peer table is full.
	PresenceWanted func(from string) bool
}

// checkHeaders returns the sender and whether the message may be handled.
func (b *Bus) checkHeaders(m *nats.Msg, needed bool) (string, bool) {
	v := m.Header.Get(HeaderVersion)
	from := m.Header.Get(HeaderNode)
	switch {
	case v == "" && needed:
		b.drop(m.Subject, DropNoHeader)
		return "", false
	case v != "" && v != ProtocolVersion:
		b.drop(m.Subject, DropVersion)
		return "", false
	case needed && from == "":
		b.drop(m.Subject, DropNoHeader)
		return "", false
	case from != "" && !ValidNodeID(from):
		// The sender's id names its subjects (<prefix>.node.<id>.blocks).
		b.drop(m.Subject, DropBadHeader)
		return "", false
	}
	return from, true
}

// ValidNodeID reports whether id can name a node's subjects: one NATS
// subject token of at most 64 printable ASCII characters, no wildcard.
func ValidNodeID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || c == '.' || c == '*' || c == '>' {
			return false
		}
	}
	return true
}

// pendingLimits bound what a subscription buffers before NATS drops as a
// slow consumer (counted as DropSlowConsumer).
const (
	pendingMsgs  = 64 << 10
	pendingBytes = 256 << 20
)

// subscribe runs the inbound pipeline on subject: recover, headers, size,
// the signature (for a kind other than ""), strict decode, then handle.
func subscribe[T any](b *Bus, subject, kind string, limit int, wanted func(string) bool, handle func(from string, v *T)) error {
	sub, err := b.nc.Subscribe(subject, func(m *nats.Msg) {
		if !b.handlers.TryRLock() {
			return // the bus is closing: Close waits for handlers that began
		}
		defer b.handlers.RUnlock()
		if b.Isolated() {
			b.tapIn(m, nil)
			return // cut off: ignored, not counted
		}
		defer func() {
			if r := recover(); r != nil {
				b.log.Error("handler panic", "subject", subject, "panic", r)
				b.drop(subject, DropPanic)
			}
		}()
		from, ok := b.checkHeaders(m, true)
		if !ok {
			return
		}
		if from == b.cfg.NodeID {
			// NoEcho: we never hear ourselves, so this is another
			// connection using our id.
			b.drop(subject, DropBadHeader)
			return
		}
		if len(m.Data) > limit {
			b.drop(subject, DropTooLarge)
			return
		}
		if wanted != nil && !wanted(from) {
			b.drop(subject, DropRefused)
			return
		}
		if kind != "" {
			if err := Verify(m.Header, kind, m.Data); err != nil {
				b.log.Debug("bad signature", "subject", subject, "from", from, "err", err)
				b.drop(subject, DropBadSignature)
				return
			}
		}
		var v T
		if err := Decode(m.Data, limit, &v); err != nil {
			reason := DropDecode
			if errors.Is(err, ErrTooLarge) {
				reason = DropTooLarge
			}
			b.drop(subject, reason)
			return
		}
		b.tapIn(m, &v)
		handle(from, &v)
	})
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", subject, err)
	}
	if err := sub.SetPendingLimits(pendingMsgs, pendingBytes); err != nil {
		return fmt.Errorf("subscribe %s: %w", subject, err)
	}
	b.subs = append(b.subs, sub)
	return nil
}

// Subscribe starts delivering the network's broadcasts to h.
func (b *Bus) Subscribe(h Handlers) error {
	s := b.cfg.Subjects
	if h.Tx != nil {
		if err := subscribe(b, s.Tx(), "", MaxTxMessage, nil, func(from string, m *TxMessage) { h.Tx(from, &m.Tx) }); err != nil {
			return err
		}
		if err := subscribe(b, s.Txs(), "", MaxTxBatchMessage, nil, func(from string, m *TxBatchMessage) {
			if len(m.Txs) > MaxTxBatch {
				b.drop(s.Txs(), DropTooLarge)
				return
			}
			for i := range m.Txs {
				h.Tx(from, &m.Txs[i])
			}
		}); err != nil {
			return err
		}
	}
	if h.Block != nil {
		if err := subscribe(b, s.Block(), "", MaxBlockMessage, nil, func(from string, m *BlockMessage) {
			if m.Block.Hash() != m.Hash {
				b.drop(s.Block(), DropDecode)
				return
			}
			h.Block(from, &m.Block)
		}); err != nil {
			return err
		}
	}
	if h.Presence != nil {
		if err := subscribe(b, s.Presence(), KindPresence, MaxPresenceMessage, h.PresenceWanted, h.Presence); err != nil {
			return err
		}
	}
	return b.nc.Flush()
}

// Responder answers a node's request-reply endpoints.
type Responder interface {
	// State describes the node (consensus and info replies).
	State() NodeState
	// BlocksAfter answers a sync request.
	BlocksAfter(req BlocksRequest) BlocksReply
	// Inventory answers a mempool inventory request (limits checked).
	Inventory(req InvRequest) InvReply
	// PendingTxs answers a request for pending transactions by hash
	// (limits checked).
	PendingTxs(req TxsRequest) TxsReply
}

// Serve registers the node's endpoints as one instance of the micro
// service pycotr-node: <prefix>.node.<id>.blocks, .info, .inv and .txs, and
// <prefix>.consensus, which every instance answers (no queue group). The
// info and consensus replies are signed; block pages and transactions are
// not (their blocks and signatures prove themselves).
func (b *Bus) Serve(r Responder, metadata map[string]string) error {
	if b.cfg.Identity == nil {
		return fmt.Errorf("serve: %w", errNoIdentity)
	}
	svc, err := micro.AddService(b.nc, micro.Config{
		Name:        ServiceName,
		Version:     ServiceVersion,
		Description: "a Pycotr miner node: chain sync, consensus tips, node info, mempool inventory",
		Metadata:    metadata,
	})
	if err != nil {
		return fmt.Errorf("micro service: %w", err)
	}
	// reply answers with v, signed as kind unless kind is "".
	reply := func(req micro.Request, kind string, v any) {
		data, err := Encode(v)
		if err != nil {
			b.log.Error("micro respond", "subject", req.Subject(), "err", err)
			_ = req.Error("500", "encode reply", nil)
			return
		}
		b.tap(TapOut, req.Reply(), len(data), b.cfg.NodeID, v)
		h := b.header()
		if kind != "" {
			h = b.signedHeader(kind, data)
		}
		if err := req.Respond(data, micro.WithHeaders(micro.Headers(h))); err != nil {
			b.log.Warn("micro respond", "subject", req.Subject(), "err", err)
		}
	}
	versionOK := func(req micro.Request) bool {
		if b.Isolated() {
			b.tapRequest(req, nil)
			return false // cut off: no answer
		}
		v := nats.Header(req.Headers()).Get(HeaderVersion)
		if v != "" && v != ProtocolVersion {
			b.drop(req.Subject(), DropVersion)
			_ = req.Error("400", "incompatible "+HeaderVersion+" "+v+", want "+ProtocolVersion, nil)
			return false
		}
		return true
	}
	state := func(kind string) micro.HandlerFunc {
		return func(req micro.Request) {
			if versionOK(req) {
				var ask any = &struct{}{}
				if req.Subject() == b.cfg.Subjects.Consensus() {
					ask = consensusAsk{}
				}
				b.tapRequest(req, ask)
				s := r.State()
				reply(req, kind, &s)
			}
		}
	}
	blocks := micro.HandlerFunc(func(req micro.Request) {
		if !versionOK(req) {
			return
		}
		var q BlocksRequest
		if err := Decode(req.Data(), MaxRequestMessage, &q); err != nil {
			b.drop(req.Subject(), DropDecode)
			_ = req.Error("400", err.Error(), nil)
			return
		}
		if len(q.Locator) > MaxLocator || q.MaxBlocks < 0 || q.MaxBytes < 0 {
			b.drop(req.Subject(), DropDecode)
			_ = req.Error("400", "locator or limits out of range", nil)
			return
		}
		b.tapRequest(req, &q)
		page := r.BlocksAfter(q)
		reply(req, "", &page)
	})
	inv := micro.HandlerFunc(func(req micro.Request) {
		if !versionOK(req) {
			return
		}
		var q InvRequest
		if err := Decode(req.Data(), MaxRequestMessage, &q); err != nil {
			b.drop(req.Subject(), DropDecode)
			_ = req.Error("400", err.Error(), nil)
			return
		}
		if q.Count < 0 || q.MaxHashes < 0 {
			b.drop(req.Subject(), DropDecode)
			_ = req.Error("400", "count or limits out of range", nil)
			return
		}
		b.tapRequest(req, &q)
		inv := r.Inventory(q)
		reply(req, "", &inv)
	})
	txs := micro.HandlerFunc(func(req micro.Request) {
		if !versionOK(req) {
			return
		}
		var q TxsRequest
		if err := Decode(req.Data(), MaxRequestMessage, &q); err != nil {
			b.drop(req.Subject(), DropDecode)
			_ = req.Error("400", err.Error(), nil)
			return
		}
		if len(q.Hashes) > MaxTxsRequest || q.MaxBytes < 0 {
			b.drop(req.Subject(), DropDecode)
			_ = req.Error("400", "hashes or limits out of range", nil)
			return
		}
		b.tapRequest(req, &q)
		txs := r.PendingTxs(q)
		reply(req, "", &txs)
	})
	grp := svc.AddGroup(b.cfg.Subjects.NodeGroup(b.cfg.NodeID))
	if err := grp.AddEndpoint("inv", inv); err != nil {
		return fmt.Errorf("micro endpoint inv: %w", err)
	}
	if err := grp.AddEndpoint("txs", txs); err != nil {
		return fmt.Errorf("micro endpoint txs: %w", err)
	}
	if err := grp.AddEndpoint("blocks", blocks); err != nil {
		return fmt.Errorf("micro endpoint blocks: %w", err)
	}
	if err := grp.AddEndpoint("info", state(KindInfo)); err != nil {
		return fmt.Errorf("micro endpoint info: %w", err)
	}
	if err := svc.AddEndpoint("consensus", state(KindConsensus),
		micro.WithEndpointSubject(b.cfg.Subjects.Consensus()),
		micro.WithEndpointQueueGroupDisabled()); err != nil {
		return fmt.Errorf("micro endpoint consensus: %w", err)
	}
	b.mu.Lock()
	b.svc = svc
	b.mu.Unlock()
	return nil
}

// MaxGatherReplies bounds the replies one consensus gather keeps.
const MaxGatherReplies = 1024

// GatherStates asks every node on the network for its state
// (scatter-gather on <prefix>.consensus): it collects replies until none
// arrives for stall, or ctx ends. It keeps one reply per node, and only
// replies signed by the node their Pycotr-Node names, whose body names that
// node too; the others are dropped and counted (DropBadSignature,
// DropIDMismatch, DropDuplicate).
func (b *Bus) GatherStates(ctx context.Context, stall time.Duration) ([]NodeState, error) {
	if b.Isolated() {
		return nil, fmt.Errorf("gather: %w", ErrIsolated)
	}
	inbox := b.nc.NewRespInbox()
	sub, err := b.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	defer sub.Unsubscribe()
	if err := b.nc.PublishMsg(&nats.Msg{Subject: b.cfg.Subjects.Consensus(), Reply: inbox, Header: b.header(), Data: []byte("{}")}); err != nil {
		return nil, fmt.Errorf("gather: %w", err)
	}
	b.tapOut(b.cfg.Subjects.Consensus(), 2, consensusAsk{})
	var out []NodeState
	seen := make(map[string]bool)
	for len(out) < MaxGatherReplies {
		wait := stall
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			wait = time.Until(dl)
		}
		if wait <= 0 {
			return out, nil
		}
		m, err := sub.NextMsg(wait)
		if err != nil {
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, nats.ErrNoResponders) { // no other node: an empty network
				return out, nil
			}
			return out, fmt.Errorf("gather: %w", err)
		}
		from, ok := b.checkHeaders(m, true)
		if !ok {
			continue
		}
		var s NodeState
		if err := b.decodeSigned(m, from, KindConsensus, &s); err != nil {
			continue
		}
		if seen[from] {
			b.drop(m.Subject, DropDuplicate)
			continue
		}
		seen[from] = true
		b.tapIn(m, &s)
		out = append(out, s)
	}
	return out, nil
}

// decodeSigned checks a signed state reply from the node from: size, the
// signature, strict decoding, and that the body names from. What fails is
// dropped and counted, and returned as an error.
func (b *Bus) decodeSigned(m *nats.Msg, from, kind string, s *NodeState) error {
	if len(m.Data) > MaxPresenceMessage {
		b.drop(m.Subject, DropTooLarge)
		return ErrTooLarge
	}
	if err := Verify(m.Header, kind, m.Data); err != nil {
		b.log.Debug("bad signature", "subject", m.Subject, "from", from, "err", err)
		b.drop(m.Subject, DropBadSignature)
		return err
	}
	if err := Decode(m.Data, MaxPresenceMessage, s); err != nil {
		b.drop(m.Subject, DropDecode)
		return err
	}
	if s.NodeID != from {
		b.drop(m.Subject, DropIDMismatch)
		return fmt.Errorf("%s reply from %s names %q", kind, from, s.NodeID)
	}
	return nil
}

// request sends a request with our headers and returns the reply, checked
// for a micro service error (returned as a wrapped *RemoteError) and its
// headers.
func (b *Bus) request(ctx context.Context, subject string, v any) (*nats.Msg, error) {
	if b.Isolated() {
		return nil, fmt.Errorf("request %s: %w", subject, ErrIsolated)
	}
	data, err := Encode(v)
	if err != nil {
		return nil, err
	}
	b.tapOut(subject, len(data), v)
	m, err := b.nc.RequestMsgWithContext(ctx, &nats.Msg{Subject: subject, Data: data, Header: b.header()})
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", subject, err)
	}
	if re := remoteError(m.Header); re != nil {
		return m, fmt.Errorf("request %s: %w", subject, re)
	}
	if _, ok := b.checkHeaders(m, false); !ok {
		return m, fmt.Errorf("request %s: incompatible reply headers", subject)
	}
	return m, nil
}

// RequestBlocks asks one node for a page of blocks. It returns the page
// and the payload size in bytes; a refusal by the peer is a *RemoteError.
func (b *Bus) RequestBlocks(ctx context.Context, nodeID string, req BlocksRequest) (*BlocksReply, int, error) {
	var r BlocksReply
	n, err := b.requestDecoded(ctx, b.cfg.Subjects.NodeBlocks(nodeID), req, &r)
	if err != nil {
		return nil, n, err
	}
	return &r, n, nil
}

// RequestInv asks one node for a page of its mempool's inventory; it
// returns the page and the payload size in bytes.
func (b *Bus) RequestInv(ctx context.Context, nodeID string, req InvRequest) (*InvReply, int, error) {
	var r InvReply
	n, err := b.requestDecoded(ctx, b.cfg.Subjects.NodeInv(nodeID), req, &r)
	if err != nil {
		return nil, n, err
	}
	return &r, n, nil
}

// RequestTxs asks one node for pending transactions by hash; it returns
// them and the payload size in bytes.
func (b *Bus) RequestTxs(ctx context.Context, nodeID string, req TxsRequest) (*TxsReply, int, error) {
	var r TxsReply
	n, err := b.requestDecoded(ctx, b.cfg.Subjects.NodeTxs(nodeID), req, &r)
	if err != nil {
		return nil, n, err
	}
	return &r, n, nil
}

// requestDecoded sends an unsigned request and decodes its reply into out
// (at most MaxReplyMessage); it returns the reply's payload size.
func (b *Bus) requestDecoded(ctx context.Context, subject string, req, out any) (int, error) {
	m, err := b.request(ctx, subject, req)
	if err != nil {
		if m != nil {
			return len(m.Data), err
		}
		return 0, err
	}
	if err := Decode(m.Data, MaxReplyMessage, out); err != nil {
		b.drop(subject, DropDecode)
		return len(m.Data), fmt.Errorf("request %s: %w", subject, err)
	}
	b.tapIn(m, out)
	return len(m.Data), nil
}

// RequestInfo asks one node for its description, which must be signed by
// that node.
func (b *Bus) RequestInfo(ctx context.Context, nodeID string) (*NodeState, error) {
	subject := b.cfg.Subjects.NodeInfo(nodeID)
	m, err := b.request(ctx, subject, struct{}{})
	if err != nil {
		return nil, err
	}
	if from := m.Header.Get(HeaderNode); from != nodeID {
		b.drop(subject, DropBadSignature)
		return nil, fmt.Errorf("request %s: reply from %q: %w", subject, from, ErrBadSignature)
	}
	var s NodeState
	if err := b.decodeSigned(m, nodeID, KindInfo, &s); err != nil {
		return nil, fmt.Errorf("request %s: %w", subject, err)
	}
	b.tapIn(m, &s)
	return &s, nil
}

// Close stops the micro service, drains the subscriptions (the messages
// already delivered are handled; the in-flight handlers finish, within
// drainTimeout) and closes the connection. No handler runs after Close
// returns, so what the handlers use may be closed then.
func (b *Bus) Close() error {
	if !b.closing.CompareAndSwap(false, true) {
		return nil
	}
	b.mu.Lock()
	svc := b.svc
	b.svc = nil
	b.mu.Unlock()
	var errs []error
	if svc != nil {
		if err := svc.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stop micro service: %w", err))
		}
	}
	if err := b.nc.Drain(); err != nil { // closed already, or reconnecting: nothing to drain from
		b.nc.Close()
	}
	t := time.NewTimer(drainTimeout + time.Second)
	defer t.Stop()
	select {
	case <-b.closed:
	case <-t.C:
		errs = append(errs, errors.New("nats drain: timed out"))
		b.nc.Close()
	}
	b.handlers.Lock() // waits for a handler still running; later ones return at once
	return errors.Join(errs...)
}
