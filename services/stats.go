package services

import (
	"maps"
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of a node's counters, read by the metrics endpoint.
// Counters only grow; gauges are read from the node directly.
type Stats struct {
	BlocksMined     uint64
	BlocksAccepted  uint64 // from peers, connected or stored
	Reorgs          uint64
	ReorgDepthTotal uint64
	SideBlocks      uint64 // valid blocks stored beside the best chain (a tie first seen elsewhere, or a branch behind)
	SyncPages       uint64
	SyncBlocks      uint64
	SyncBytes       uint64
	SyncRedundant   uint64 // blocks received in sync that were already held (should stay 0)
	SyncFailures    uint64 // syncs that failed (timeout, no responder, garbage or invalid blocks) or brought nothing new; each backs the peer off
	FeedDrops       uint64 // live-view subscribers dropped for falling behind

	RelayUnacked uint64 // client transactions whose relay NATS did not acknowledge in time
	RelayFlushes uint64 // NATS flushes acknowledging client relays: one per group commit, however many it held
	LogSyncs     uint64 // fdatasyncs of mempool.log: one per group commit
	LogRecords   uint64 // transactions they made durable
	PoolRestored uint64 // pending transactions restored from the data directory at start

	// Inventory exchange (inventory.go).
	InvRounds    uint64 // exchanges with a peer
	InvInSync    uint64 // ... that ended on equal digests
	InvUnchanged uint64 // ... that ended on a pool already listed with nothing to take
	InvFailures  uint64 // ... that ended in an error (timeout, no responder, refusal)
	InvBytes     uint64 // reply bytes received (inventory pages and transactions)
	InvServed    uint64 // inventory requests this node answered

	TxAccepted     map[string]uint64 // by source: "local", "relay"
	TxRejected     map[string]uint64 // by reason (rule code)
	BlocksRejected map[string]uint64 // by reason
	NATSDrops      map[string]uint64 // inbound NATS messages dropped, by reason
	RestoreDrops   map[string]uint64 // stored pending transactions dropped at start, by reason
}

// counters are the live counters a node's parts add to.
type counters struct {
	blocksMined     atomic.Uint64
	blocksAccepted  atomic.Uint64
	reorgs          atomic.Uint64
	reorgDepthTotal atomic.Uint64
	sideBlocks      atomic.Uint64
	syncPages       atomic.Uint64
	syncBlocks      atomic.Uint64
	syncBytes       atomic.Uint64
	syncRedundant   atomic.Uint64
	syncFailures    atomic.Uint64
	feedDrops       atomic.Uint64
	relayUnacked    atomic.Uint64
	relayFlushes    atomic.Uint64
	logSyncs        atomic.Uint64
	logRecords      atomic.Uint64
	poolRestored    atomic.Uint64
	invRounds       atomic.Uint64
	invInSync       atomic.Uint64
	invUnchanged    atomic.Uint64
	invFailures     atomic.Uint64
	invBytes        atomic.Uint64
	invServed       atomic.Uint64

	mu         sync.Mutex
	txAccepted map[string]uint64
	txRejected map[string]uint64
	blkReject  map[string]uint64
	natsDrops  map[string]uint64
	restDrops  map[string]uint64
}

func bump(m *map[string]uint64, k string) {
	if *m == nil {
		*m = make(map[string]uint64)
	}
	(*m)[k]++
}

func (c *counters) txAccept(source string) { c.mu.Lock(); bump(&c.txAccepted, source); c.mu.Unlock() }
func (c *counters) txReject(reason string) { c.mu.Lock(); bump(&c.txRejected, reason); c.mu.Unlock() }
func (c *counters) blockReject(reason string) {
	c.mu.Lock()
	bump(&c.blkReject, reason)
	c.mu.Unlock()
}
func (c *counters) natsDrop(reason string) { c.mu.Lock(); bump(&c.natsDrops, reason); c.mu.Unlock() }
func (c *counters) restoreDrop(reason string, n int) {
	c.mu.Lock()
	for range n {
		bump(&c.restDrops, reason)
	}
	c.mu.Unlock()
}

// snapshot copies the counters; the maps are the caller's.
func (c *counters) snapshot() Stats {
	s := Stats{
		BlocksMined: c.blocksMined.Load(), BlocksAccepted: c.blocksAccepted.Load(),
		Reorgs: c.reorgs.Load(), ReorgDepthTotal: c.reorgDepthTotal.Load(), SideBlocks: c.sideBlocks.Load(),
		SyncPages: c.syncPages.Load(), SyncBlocks: c.syncBlocks.Load(), SyncBytes: c.syncBytes.Load(),
		SyncRedundant: c.syncRedundant.Load(), SyncFailures: c.syncFailures.Load(), FeedDrops: c.feedDrops.Load(),
		RelayUnacked: c.relayUnacked.Load(), PoolRestored: c.poolRestored.Load(),
		RelayFlushes: c.relayFlushes.Load(), LogSyncs: c.logSyncs.Load(), LogRecords: c.logRecords.Load(),
		InvRounds: c.invRounds.Load(), InvInSync: c.invInSync.Load(), InvUnchanged: c.invUnchanged.Load(),
		InvFailures: c.invFailures.Load(), InvBytes: c.invBytes.Load(), InvServed: c.invServed.Load(),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s.TxAccepted = copyCounts(c.txAccepted)
	s.TxRejected = copyCounts(c.txRejected)
	s.BlocksRejected = copyCounts(c.blkReject)
	s.NATSDrops = copyCounts(c.natsDrops)
	s.RestoreDrops = copyCounts(c.restDrops)
	return s
}

func copyCounts(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	maps.Copy(out, m)
	return out
}
