package services

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
)

// Version is the node software's version, reported in presence.
const Version = "0.1.0"

// Config configures a Node.
type Config struct {
	ID        string // node id and chain id (the original's blockchain_id): a UUID; "" = new
	Name      string // human name, e.g. node-1
	PublicURL string // the node's public HTTP URL, as peers and the frontend see it
	MinerKey  *rsa.PrivateKey
	Miner     MinerConfig
	Genesis   *genesis.File // nil = the embedded default
	Mempool   chain.MempoolLimits
	DataDir   string // blocks and identity persist here; "" = in memory, as the original

	// NATS: external servers, or an embedded one (in-process connection).
	NATSServers []string
	NATSAuth    events.ClientAuth // credentials and TLS for NATSServers
	Embedded    *events.Server
	Prefix      string

	PresenceInterval  time.Duration // default 2 s; peers expire after 3 missed beats
	ConsensusInterval time.Duration // default 10 s
	GatherStall       time.Duration // scatter-gather: stop after this long without a reply; default 250 ms
	SyncPageBytes     int           // default 2 MiB, capped by the server's max payload

	Logger *slog.Logger
	Now    func() time.Time // chain clock; nil = time.Now
}

// Node is one Pycotr miner node.
type Node struct {
	cfg    Config
	log    *slog.Logger
	chain  *chain.Chain
	bus    *events.Bus
	miner  *miner
	peers  *peerTable
	feed   feed
	stats  Stats
	minerA chain.Address

	source atomic.Value // string: id of the node whose chain we adopted last
	synced atomic.Bool
	natsUp atomic.Bool
	syncQ  struct {
		sync.Mutex
		pending map[string]struct{}
		order   []string
	}
	syncWake  chan struct{}
	syncMu    sync.Mutex // held by the one running sync
	consReq   chan struct{}
	extraURLs struct {
		sync.Mutex
		urls []string
	}

	persist *persister // nil without a data directory

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// New builds a node: its chain from genesis, its miner and config. Nothing
// runs until Start.
func New(cfg Config) (*Node, error) {
	if cfg.ID == "" {
		cfg.ID = uuid.NewString()
	}
	if _, err := uuid.Parse(cfg.ID); err != nil {
		return nil, fmt.Errorf("node id %q: want a UUID", cfg.ID)
	}
	if cfg.Name == "" {
		cfg.Name = "node-" + cfg.ID[:8]
	}
	if cfg.MinerKey == nil {
		return nil, errors.New("node: a miner key is required")
	}
	if cfg.Genesis == nil {
		g, err := genesis.Default()
		if err != nil {
			return nil, err
		}
		cfg.Genesis = g
	}
	if cfg.PresenceInterval <= 0 {
		cfg.PresenceInterval = 2 * time.Second
	}
	if cfg.ConsensusInterval <= 0 {
		cfg.ConsensusInterval = 10 * time.Second
	}
	if cfg.GatherStall <= 0 {
		cfg.GatherStall = 250 * time.Millisecond
	}
	if cfg.SyncPageBytes <= 0 {
		cfg.SyncPageBytes = 2 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Miner.normalize(); err != nil {
		return nil, err
	}
	c, err := cfg.Genesis.NewChain(chain.Config{Mempool: cfg.Mempool, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:      cfg,
		log:      cfg.Logger.With("node", cfg.Name),
		chain:    c,
		peers:    newPeerTable(3 * cfg.PresenceInterval),
		minerA:   chain.AddressOf(&cfg.MinerKey.PublicKey),
		syncWake: make(chan struct{}, 1),
		consReq:  make(chan struct{}, 1),
	}
	if cfg.DataDir != "" {
		if err := n.openStore(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	n.source.Store(n.cfg.ID)
	n.miner = newMiner(n, cfg.Miner)
	return n, nil
}

// Start connects to NATS, subscribes, registers the micro service and
// starts the node's loops; they run until Close or until ctx ends.
func (n *Node) Start(ctx context.Context) error {
	subjects, err := events.NewSubjects(n.cfg.Prefix)
	if err != nil {
		return err
	}
	bus, err := events.Connect(events.BusConfig{
		Servers:  n.cfg.NATSServers,
		Auth:     n.cfg.NATSAuth,
		Embedded: n.cfg.Embedded,
		NodeID:   n.cfg.ID,
		Name:     "pycotr " + n.cfg.Name,
		Subjects: subjects,
		Logger:   n.log,
		OnConnState: func(up bool) {
			n.natsUp.Store(up)
			if up {
				n.requestConsensus() // catch up on what passed while away
			}
		},
		OnDrop: func(_, reason string) { n.stats.natsDrop(reason) },
	})
	if err != nil {
		return err
	}
	n.bus = bus
	n.natsUp.Store(bus.Connected())
	if err := bus.Subscribe(events.Handlers{Tx: n.onTx, Block: n.onBlock, Presence: n.onPresence}); err != nil {
		bus.Close()
		return err
	}
	if err := bus.Serve(responder{n}, map[string]string{"node_id": n.cfg.ID, "name": n.cfg.Name, "url": n.cfg.PublicURL}); err != nil {
		bus.Close()
		return err
	}
	ctx, n.cancel = context.WithCancel(ctx)
	n.run(ctx, n.syncLoop)
	n.run(ctx, n.consensusLoop)
	n.run(ctx, n.presenceLoop)
	n.run(ctx, n.miner.run)
	n.requestConsensus()
	n.log.Info("node started", "id", n.cfg.ID, "url", n.cfg.PublicURL, "miner", n.minerA.Short(),
		"pause", n.cfg.Miner.Pause, "mode", n.cfg.Miner.Mode)
	return nil
}

func (n *Node) run(ctx context.Context, f func(context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(ctx)
	}()
}

// Close stops every loop, leaves NATS and waits for all goroutines.
func (n *Node) Close() error {
	if !n.closed.CompareAndSwap(false, true) {
		return nil
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.wg.Wait()
	if n.bus != nil {
		n.bus.Close()
	}
	if n.persist != nil {
		if err := n.persist.close(); err != nil {
			n.log.Warn("close store", "err", err)
		}
	}
	n.feed.closeAll()
	n.log.Info("node stopped")
	return nil
}

// ID is the node id, which is also its chain id.
func (n *Node) ID() string { return n.cfg.ID }

// Name is the node's human name.
func (n *Node) Name() string { return n.cfg.Name }

// PublicURL is the node's public HTTP URL.
func (n *Node) PublicURL() string { return n.cfg.PublicURL }

// Chain gives read access to the node's chain (and AcceptTx-level writes
// must go through SubmitTx so they are relayed).
func (n *Node) Chain() *chain.Chain { return n.chain }

// MinerAddress is the address rewards are paid to.
func (n *Node) MinerAddress() chain.Address { return n.minerA }

// SourceChainID is the id of the node whose chain this node adopted last,
// its own id when the latest tip is its own or it adopted none.
func (n *Node) SourceChainID() string { return n.source.Load().(string) }

// Stats returns the node's counters.
func (n *Node) Stats() *Stats { return &n.stats }

// Subscribe returns a feed of the node's events; a subscriber that falls
// more than buf events behind is dropped (its channel is closed). Call the
// returned function to unsubscribe.
func (n *Node) Subscribe(buf int) (<-chan Event, func()) { return n.feed.subscribe(buf) }

func (n *Node) emit(e Event) {
	if d := n.feed.publish(e); d > 0 {
		n.stats.FeedDrops.Add(uint64(d))
	}
}

// NATSConnected reports whether the node's NATS connection is up.
func (n *Node) NATSConnected() bool { return n.bus != nil && n.natsUp.Load() && n.bus.Connected() }

// Ready reports whether the node is connected and has finished its first
// sync with the network, and if not, why.
func (n *Node) Ready() (bool, string) {
	switch {
	case !n.NATSConnected():
		return false, "NATS not connected"
	case !n.synced.Load():
		return false, "initial sync not finished"
	}
	return true, ""
}

// RegisterPeerURL records a peer URL given through the original's
// registration routes; it is listed by PeerURLs with the peers found by
// presence. The node's own URL is ignored, and at most maxPeers are kept.
func (n *Node) RegisterPeerURL(u string) {
	if u == "" || u == n.cfg.PublicURL {
		return
	}
	n.extraURLs.Lock()
	defer n.extraURLs.Unlock()
	if !slices.Contains(n.extraURLs.urls, u) && len(n.extraURLs.urls) < maxPeers {
		n.extraURLs.urls = append(n.extraURLs.urls, u)
	}
}

// PeerURLs lists the peers' public URLs: those seen by presence, then
// those registered by hand, never the node's own.
func (n *Node) PeerURLs() []string {
	var out []string
	for _, p := range n.peers.list() {
		if p.URL != "" && p.URL != n.cfg.PublicURL && !slices.Contains(out, p.URL) {
			out = append(out, p.URL)
		}
	}
	n.extraURLs.Lock()
	defer n.extraURLs.Unlock()
	for _, u := range n.extraURLs.urls {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// Peers returns the live peer table, sorted by name.
func (n *Node) Peers() []events.NodeState { return n.peers.list() }

// State describes the node as presence and consensus replies do.
func (n *Node) State() events.NodeState {
	tip := n.chain.Tip()
	count, _ := n.chain.MempoolStats()
	return events.NodeState{
		NodeID: n.cfg.ID, Name: n.cfg.Name, URL: n.cfg.PublicURL, ChainID: n.cfg.ID,
		Height: tip.Height, Tip: tip.Hash, Work: tip.Work.String(),
		Pause: n.miner.pause().Seconds(), Mode: string(n.cfg.Miner.Mode), Mining: n.miner.enabled(),
		BlocksMined: n.stats.BlocksMined.Load(), Mempool: count, Peers: n.peers.len(), Version: Version,
		Bits: n.chain.NextBits(), TargetBlockMillis: targetMillis(n.chain.Params()),
		BlocksToRetarget: n.chain.BlocksToRetarget(),
		HashRate:         n.miner.hashRate(), HashRateLimit: n.miner.hashLimit(),
	}
}

func targetMillis(p chain.Params) int64 {
	if p.Retarget == nil {
		return 0
	}
	return p.Retarget.TargetBlockMillis
}

// Miner controls.

// StartMining turns the miner on; StopMining turns it off.
func (n *Node) StartMining() { n.miner.setEnabled(true) }
func (n *Node) StopMining()  { n.miner.setEnabled(false) }

// Mining reports whether the miner is on.
func (n *Node) Mining() bool { return n.miner.enabled() }

// SetPause changes the miner's pause at run time.
func (n *Node) SetPause(d time.Duration) error {
	if d < 0 || d > MaxPause {
		return fmt.Errorf("pause %s: want 0 to %s", d, MaxPause)
	}
	n.miner.setPause(d)
	return nil
}

// SetHashRate changes the miner's hash-rate limit at run time (hashes/s,
// 0 = no limit).
func (n *Node) SetHashRate(r float64) error {
	if err := checkHashRate(r); err != nil {
		return err
	}
	n.miner.setLimit(r)
	return nil
}

// HashRateLimit is the miner's hash-rate limit, 0 for none.
func (n *Node) HashRateLimit() float64 { return n.miner.hashLimit() }

// Pause is the miner's current pause.
func (n *Node) Pause() time.Duration { return n.miner.pause() }

// MinerMode is the miner's mode.
func (n *Node) MinerMode() MinerMode { return n.cfg.Miner.Mode }

// HashRate is the proof-of-work rate in hashes per second, averaged over
// at least the last second (0 while the miner is stopped).
func (n *Node) HashRate() float64 { return n.miner.hashRate() }

// Hashes is the total number of proof-of-work tries made.
func (n *Node) Hashes() uint64 { return n.miner.pow.Hashes() }

// NodeState is a node's self-description (presence, consensus, info).
type NodeState = events.NodeState
