package services

import (
	"sync"
	"sync/atomic"
)

// Stats are a node's counters, read by the metrics endpoint. Counters only
// grow; gauges are read from the node directly.
type Stats struct {
	BlocksMined     atomic.Uint64
	BlocksAccepted  atomic.Uint64 // from peers, connected or stored
	Reorgs          atomic.Uint64
	ReorgDepthTotal atomic.Uint64
	SyncPages       atomic.Uint64
	SyncBlocks      atomic.Uint64
	SyncBytes       atomic.Uint64
	SyncRedundant   atomic.Uint64 // blocks received in sync that were already held (should stay 0)
	SyncFailures    atomic.Uint64 // syncs that ended in an error: timeout, no responder, garbage or invalid blocks
	FeedDrops       atomic.Uint64 // live-view subscribers dropped for falling behind

	mu         sync.Mutex
	txAccepted map[string]uint64 // by source: "local", "relay"
	txRejected map[string]uint64 // by reason (rule code)
	blkReject  map[string]uint64 // by reason
	natsDrops  map[string]uint64 // by reason
}

func bump(m *map[string]uint64, k string) {
	if *m == nil {
		*m = make(map[string]uint64)
	}
	(*m)[k]++
}

func (s *Stats) txAccept(source string) { s.mu.Lock(); bump(&s.txAccepted, source); s.mu.Unlock() }
func (s *Stats) txReject(reason string) { s.mu.Lock(); bump(&s.txRejected, reason); s.mu.Unlock() }
func (s *Stats) blockReject(reason string) {
	s.mu.Lock()
	bump(&s.blkReject, reason)
	s.mu.Unlock()
}
func (s *Stats) natsDrop(reason string) { s.mu.Lock(); bump(&s.natsDrops, reason); s.mu.Unlock() }

func snapshot(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TxAccepted returns accepted transactions by source (local, relay).
func (s *Stats) TxAccepted() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot(s.txAccepted)
}

// TxRejected returns rejected transactions by reason.
func (s *Stats) TxRejected() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot(s.txRejected)
}

// BlocksRejected returns rejected blocks by reason.
func (s *Stats) BlocksRejected() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot(s.blkReject)
}

// NATSDrops returns inbound NATS messages dropped, by reason.
func (s *Stats) NATSDrops() map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return snapshot(s.natsDrops)
}
