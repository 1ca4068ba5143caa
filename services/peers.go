package services

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pycotr/pycotr/events"
)

// maxPeers bounds the peer table against a flood of fake presences.
const maxPeers = 256

// peerTable is what a node knows of its peers from presence beats.
type peerTable struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]peerEntry
}

type peerEntry struct {
	state    events.NodeState
	lastSeen time.Time
}

func newPeerTable(ttl time.Duration) *peerTable {
	return &peerTable{ttl: ttl, m: make(map[string]peerEntry)}
}

// seen records a beat and reports whether the peer is new.
func (t *peerTable) seen(s events.NodeState, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	_, known := t.m[s.NodeID]
	if !known && len(t.m) >= maxPeers {
		return false
	}
	t.m[s.NodeID] = peerEntry{state: s, lastSeen: now}
	return !known
}

// expire removes and returns the peers silent for longer than the TTL.
func (t *peerTable) expire(now time.Time) []events.NodeState {
	t.mu.Lock()
	defer t.mu.Unlock()
	var gone []events.NodeState
	for id, e := range t.m {
		if now.Sub(e.lastSeen) > t.ttl {
			delete(t.m, id)
			gone = append(gone, e.state)
		}
	}
	return gone
}

func (t *peerTable) list() []events.NodeState {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]events.NodeState, 0, len(t.m))
	for _, e := range t.m {
		out = append(out, e.state)
	}
	slices.SortFunc(out, func(a, b events.NodeState) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.NodeID, b.NodeID)
	})
	return out
}

func (t *peerTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
