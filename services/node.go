package services

import (
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/services/miner"
)

// Version is the node software's version, reported in presence.
const Version = "0.1.0"

// Config configures a Node.
type Config struct {
	// NodeKey is the node's identity key: its node id, which is also its
	// chain id (the original's blockchain_id), is derived from it
	// (events.NodeIDOf). nil = the one kept in DataDir, or a new one; a key
	// kept in DataDir wins over this one.
	NodeKey   ed25519.PrivateKey
	Name      string // human name, e.g. node-1; "" = node-<first 8 characters of the id>
	PublicURL string // the node's public HTTP URL, as peers and the frontend see it
	MinerKey  *rsa.PrivateKey
	Miner     miner.Settings
	Genesis   *genesis.File // nil = the embedded default
	Mempool   chain.MempoolLimits
	DataDir   string // blocks and identity persist here; "" = in memory, as the original

	// NATS: external servers, or an embedded one (in-process connection).
	NATSServers []string
	NATSAuth    events.ClientAuth // credentials and TLS for NATSServers
	Embedded    *events.Server
	Prefix      string

	// PresenceInterval is the base beat interval P (default 2 s): a node
	// beats every P·max(1, n/4) when it knows n nodes, and its peers
	// expire it after 3 missed beats (presence.go).
	PresenceInterval time.Duration
	// ConsensusInterval is how often a node asks consensusSample random
	// peers for their tips (default 10 s); a round that asks every node
	// runs only at start, on reconnect and on the fork lab's heal
	// (consensus.go).
	ConsensusInterval time.Duration
	GatherStall       time.Duration // scatter-gather: stop after this long without a reply; default 250 ms
	SyncPageBytes     int           // default 2 MiB, capped by the server's max payload
	// SyncPageTimeout bounds one sync page request, and the first pages of
	// one catch-up together (default 10 s): a peer that does not serve
	// costs a round at most this long.
	SyncPageTimeout time.Duration
	// Inventory exchange (pools converge): a round with every peer this
	// often (default 1 s), at most this many reply bytes per peer per
	// round (default 1 MiB).
	InventoryInterval   time.Duration
	InventoryRoundBytes int

	Logger *slog.Logger
	Now    func() time.Time // chain clock; nil = time.Now
}

// Node is one Pycotr miner node: it wires one chain, one NATS bus, a
// miner, a peer directory and a syncer, and owns every goroutine they run.
// Its own surface is small; the miner's controls and the peer directory
// are values it hands out (Miner, Peers).
type Node struct {
	cfg     Config
	id      *events.Identity // the node id is id.ID()
	log     *slog.Logger
	chain   *chain.Chain
	bus     *events.Bus // set by Start
	miner   *miner.Miner
	peers   *Peers
	sync    *syncer // set by Start
	feed    feed
	stats   counters
	persist *persister              // nil without a data directory
	txlog   *txLog                  // the mempool on disk; nil without a data directory
	relay   *groupCommit[*chain.Tx] // client submissions' relays, published together and flushed; set by Start

	isolation isolation   // the fork lab's cut (isolation.go)
	tap       *events.Tap // the messages the bus sends and receives (tap.go)

	source  atomic.Value // string: id of the node whose chain we adopted last
	synced  atomic.Bool
	natsUp  atomic.Bool
	consReq chan struct{}
	beatReq chan struct{}
	invReq  chan struct{}

	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

// New builds a node: its chain from genesis, its miner and config. Nothing
// runs until Start.
func New(cfg Config) (*Node, error) {
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
	if cfg.SyncPageTimeout <= 0 {
		cfg.SyncPageTimeout = 10 * time.Second
	}
	if cfg.InventoryInterval <= 0 {
		cfg.InventoryInterval = time.Second
	}
	if cfg.InventoryRoundBytes <= 0 {
		cfg.InventoryRoundBytes = 1 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Miner.Normalize(); err != nil {
		return nil, err
	}
	c, err := cfg.Genesis.NewChain(chain.Config{Mempool: cfg.Mempool, Now: cfg.Now})
	if err != nil {
		return nil, err
	}
	n := &Node{
		cfg:     cfg,
		log:     cfg.Logger,
		chain:   c,
		peers:   newPeers(cfg.PublicURL, 3*cfg.PresenceInterval),
		consReq: make(chan struct{}, 1),
		beatReq: make(chan struct{}, 1),
		tap:     events.NewTap(events.DefaultTapSize),
		invReq:  make(chan struct{}, 1),
	}
	if cfg.DataDir != "" {
		if err := n.openStore(cfg.DataDir); err != nil {
			return nil, err
		}
	} else if err := n.setIdentity(cfg.NodeKey); err != nil {
		return nil, err
	}
	n.source.Store(n.ID())
	n.miner, err = miner.New(miner.Config{
		Settings:   cfg.Miner,
		Address:    chain.AddressOf(&cfg.MinerKey.PublicKey),
		Template:   c.Template,
		TipChanged: c.TipChanged,
		Submit:     n.submitMined,
		Logger:     n.log,
	})
	if err != nil {
		n.closeStore()
		return nil, err
	}
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
		Identity: n.id,
		Name:     "pycotr " + n.cfg.Name,
		Subjects: subjects,
		Logger:   n.log,
		OnConnState: func(up bool) {
			n.natsUp.Store(up)
			if up {
				n.requestConsensus() // catch up on what passed while away
				n.requestInventory()
			}
		},
		OnDrop: func(_, reason string) { n.stats.natsDrop(reason) },
		Tap:    n.tap,
	})
	if err != nil {
		return err
	}
	n.bus = bus
	n.natsUp.Store(bus.Connected())
	// Client submissions' relays go out together (one message for many
	// under load), and one flush after them acknowledges them all (group
	// commit), however many are waiting.
	n.relay = newGroupCommit(relayCommit, func(txs []*chain.Tx) error {
		if err := bus.PublishTxs(txs); err != nil {
			return err
		}
		if err := bus.Flush(relayTimeout); err != nil {
			return err
		}
		n.stats.relayFlushes.Add(1)
		return nil
	})
	n.sync = newSyncer(n.chain, bus, &n.stats, n.log, n.cfg.SyncPageBytes, n.cfg.SyncPageTimeout, n.acceptRequestedBlock)
	if err := bus.Subscribe(events.Handlers{Tx: n.onTx, Block: n.onBlock, Presence: n.onPresence,
		PresenceWanted: n.peers.wants}); err != nil {
		bus.Close()
		return err
	}
	if err := bus.Serve(responder{n}, map[string]string{"node_id": n.ID(), "name": n.cfg.Name, "url": n.cfg.PublicURL}); err != nil {
		bus.Close()
		return err
	}
	ctx, n.cancel = context.WithCancel(ctx)
	for _, loop := range []func(context.Context){n.sync.run, n.consensusLoop, n.presenceLoop, n.inventoryLoop, n.miner.Run} {
		n.wg.Go(func() { loop(ctx) })
	}
	n.requestConsensus()
	n.log.Info("node started", "id", n.ID(), "url", n.cfg.PublicURL, "miner", n.miner.Address().Short(),
		"pause", n.cfg.Miner.Pause, "mode", n.cfg.Miner.Mode)
	return nil
}

// Close stops the node in order: the loops are told to end, the bus stops
// its micro service and drains its subscriptions (in-flight handlers
// finish), the loops are waited for, then the store and the event feed
// close. Nothing the node started outlives Close.
func (n *Node) Close() error {
	if !n.closed.CompareAndSwap(false, true) {
		return nil
	}
	if n.cancel != nil {
		n.cancel()
	}
	n.stopIsolation()
	var errs []error
	if n.bus != nil {
		if err := n.bus.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close bus: %w", err))
		}
	}
	n.wg.Wait()
	if n.relay != nil {
		n.relay.close()
	}
	if err := n.closeStore(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	n.feed.closeAll()
	n.tap.Close()
	n.log.Info("node stopped")
	return errors.Join(errs...)
}

// setIdentity makes key (nil: a new one) the node's identity; the node's
// name and logger follow from it.
func (n *Node) setIdentity(key ed25519.PrivateKey) error {
	var err error
	if key == nil {
		n.id, err = events.NewIdentity()
	} else {
		n.id, err = events.IdentityFromKey(key)
	}
	if err != nil {
		return err
	}
	if n.cfg.Name == "" {
		n.cfg.Name = "node-" + n.id.ID()[:8]
	}
	n.log = n.cfg.Logger.With("node", n.cfg.Name)
	return nil
}

// ID is the node id, which is also its chain id: a UUID derived from the
// node's public key (events.NodeIDOf).
func (n *Node) ID() string { return n.id.ID() }

// closeStore writes what is queued for the disk and closes the store.
func (n *Node) closeStore() error {
	if n.persist == nil {
		return nil
	}
	return errors.Join(n.txlog.close(), n.persist.close())
}

// Name is the node's human name.
func (n *Node) Name() string { return n.cfg.Name }

// PublicURL is the node's public HTTP URL.
func (n *Node) PublicURL() string { return n.cfg.PublicURL }

// Chain gives read access to the node's chain. Writes go through
// SubmitTx (transactions are relayed) and the node's block intake (blocks
// are persisted): never call its AcceptTx or ProcessBlock directly.
func (n *Node) Chain() *chain.Chain { return n.chain }

// Miner is the node's miner: its controls and gauges.
func (n *Node) Miner() *miner.Miner { return n.miner }

// Peers is the node's peer directory.
func (n *Node) Peers() *Peers { return n.peers }

// SourceChainID is the id of the node whose chain this node adopted last,
// its own id when the latest tip is its own or it adopted none.
func (n *Node) SourceChainID() string { return n.source.Load().(string) }

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats { return n.stats.snapshot() }

// Subscribe returns a feed of the node's events; a subscriber that falls
// more than buf events behind is dropped (its channel is closed). Call the
// returned function to unsubscribe.
func (n *Node) Subscribe(buf int) (<-chan Event, func()) { return n.feed.subscribe(buf) }

func (n *Node) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if d := n.feed.publish(e); d > 0 {
		n.stats.feedDrops.Add(uint64(d))
	}
}

// natsConnected reports whether the node's NATS connection is up.
func (n *Node) natsConnected() bool { return n.bus != nil && n.natsUp.Load() && n.bus.Connected() }

// Ready reports whether the node is connected and has finished its first
// sync with the network, and if not, why.
func (n *Node) Ready() (bool, string) {
	switch {
	case !n.natsConnected():
		return false, "NATS not connected"
	case !n.synced.Load():
		return false, "initial sync not finished"
	}
	return true, ""
}

// State describes the node as presence and consensus replies do.
func (n *Node) State() events.NodeState {
	tip := n.chain.Tip()
	count, _ := n.chain.MempoolStats()
	return events.NodeState{
		NodeID: n.ID(), Name: n.cfg.Name, URL: n.cfg.PublicURL, ChainID: n.ID(),
		Height: tip.Height, Tip: tip.Hash, Work: tip.Work.String(),
		Pause: n.miner.Pause().Seconds(), Mode: string(n.miner.Mode()), Mining: n.miner.Mining(),
		BlocksMined: n.stats.blocksMined.Load(), Mempool: count, Peers: n.peers.Len(), Version: Version,
		Bits: n.chain.NextBits(), TargetBlockMillis: targetMillis(n.chain.Params()),
		BlocksToRetarget: n.chain.BlocksToRetarget(),
		HashRate:         n.miner.HashRate(), HashRateLimit: n.miner.HashRateLimit(),
		IntervalMillis: max(1, beatInterval(n.cfg.PresenceInterval, n.peers.Len()+1).Milliseconds()),
	}
}

func targetMillis(p chain.Params) int64 {
	if p.Retarget == nil {
		return 0
	}
	return p.Retarget.TargetBlockMillis
}

// NodeState is a node's self-description (presence, consensus, info).
type NodeState = events.NodeState
