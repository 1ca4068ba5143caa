package services

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pycotr/pycotr/events"
)

// maxPeers bounds the URLs registered by hand and the sync queue.
const maxPeers = 256

// maxPeerTable bounds the peer table against a flood of fake presences.
// An entry is a node's state: about 600 bytes with a short name and URL
// (a full table about 10 MB), at most about 2.8 KB with the longest a beat
// may carry (46 MB). It is large because a node computes its beat interval
// from the table's size (beatInterval): a network larger than the table
// still works (consensus and sync do not use the table), but its nodes
// list only the peers they heard first and beat more often than the
// network's size asks (docs/SCALING.md).
const maxPeerTable = 16384

// Peers is what a node knows of its peers: those found by presence beats
// (each expiring after three of its announced beat intervals) and the URLs registered by hand through the
// original's registration routes.
type Peers struct {
	self  string        // the node's own public URL, never listed
	ttl   time.Duration // for a beat that announces no interval
	limit int           // entries at most: maxPeerTable (a test may lower it)

	mu    sync.Mutex
	m     map[string]peerEntry
	extra []string // registered URLs
}

type peerEntry struct {
	state   events.NodeState
	expires time.Time
}

func newPeers(self string, ttl time.Duration) *Peers {
	return &Peers{self: self, ttl: ttl, limit: maxPeerTable, m: make(map[string]peerEntry)}
}

// seen records a beat and reports whether the peer is new.
func (p *Peers) seen(s events.NodeState, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, known := p.m[s.NodeID]
	if !known && len(p.m) >= p.limit {
		return false
	}
	ttl := peerTTL(time.Duration(s.IntervalMillis)*time.Millisecond, p.ttl)
	p.m[s.NodeID] = peerEntry{state: s, expires: now.Add(ttl)}
	return !known
}

// wants reports whether a beat from id would be kept: id is known, or the
// table has room.
func (p *Peers) wants(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, known := p.m[id]
	return known || len(p.m) < p.limit
}

// expire removes and returns the peers silent for longer than three of
// their beat intervals.
func (p *Peers) expire(now time.Time) []events.NodeState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var gone []events.NodeState
	for id, e := range p.m {
		if now.After(e.expires) {
			delete(p.m, id)
			gone = append(gone, e.state)
		}
	}
	return gone
}

// Sample returns the ids of k live peers picked at random (all of them if
// there are fewer), each equally likely: what the inventory round and the
// consensus check ask. It copies k ids, not the table: a node samples every
// second, and a copy of the whole table, sorted, cost it O(N) memory and
// time a second (at N = 48 it was 4 % of the bench process's allocations).
func (p *Peers) Sample(k int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, min(k, len(p.m)))
	i := 0
	for id := range p.m { // reservoir sampling: uniform whatever the map's order
		if len(out) < k {
			out = append(out, id)
		} else if j := rand.IntN(i + 1); j < k {
			out[j] = id
		}
		i++
	}
	return out
}

// Known reports whether id is a live peer.
func (p *Peers) Known(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.m[id]
	return ok
}

// List returns the live peers as their last beat described them, sorted
// by name.
func (p *Peers) List() []events.NodeState {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]events.NodeState, 0, len(p.m))
	for _, e := range p.m {
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

// Len is the number of live peers.
func (p *Peers) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// Register records a peer URL given through the original's registration
// routes; it is listed by URLs with the peers found by presence. The
// node's own URL is ignored, and at most maxPeers are kept.
func (p *Peers) Register(u string) {
	if u == "" || u == p.self {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.extra, u) && len(p.extra) < maxPeers {
		p.extra = append(p.extra, u)
	}
}

// URLs lists the peers' public URLs: those seen by presence, then those
// registered by hand, never the node's own.
func (p *Peers) URLs() []string {
	var out []string
	for _, s := range p.List() {
		if s.URL != "" && s.URL != p.self && !slices.Contains(out, s.URL) {
			out = append(out, s.URL)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.extra {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}
