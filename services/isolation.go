package services

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// Isolation, the fork lab's switch: a node cut off the network for a
// while. Its bus stops sending and ignores what arrives (events.Bus
// SetIsolated), so its presence beats stop and the peers see it leave; it
// keeps taking transactions over HTTP and mining on its own branch. When
// the time is up, or on Heal, it beats at once and asks for a consensus
// round: it syncs the branch with the most work, and whichever side had
// less reorganises. The timer is the node's, stopped by Close.

// MaxIsolation bounds how long a node may be cut off in one go.
const MaxIsolation = 10 * time.Minute

// ErrIsolationRange: an isolation of zero, less or more than MaxIsolation.
var ErrIsolationRange = fmt.Errorf("isolation: want more than 0 and at most %s", MaxIsolation)

// ErrNotRunning: the node is not started, or already closed.
var ErrNotRunning = errors.New("the node is not running")

// Events of the fork lab.
const (
	EventIsolated EventKind = "isolated" // the node was cut off the network (Until says till when)
	EventHealed   EventKind = "healed"   // the node rejoined the network
)

type isolation struct {
	mu      sync.Mutex
	until   time.Time   // zero when connected
	timer   *time.Timer // heals at until
	stopped bool        // Close ran: no more isolation
}

// isolate cuts the node off the network for d (at most MaxIsolation); it
// rejoins by itself when d has passed. Isolating an isolated node sets a
// new end. It returns when the node will rejoin.
func (n *Node) isolate(d time.Duration) (time.Time, error) {
	if d <= 0 || d > MaxIsolation {
		return time.Time{}, ErrIsolationRange
	}
	iso := &n.isolation
	iso.mu.Lock()
	defer iso.mu.Unlock()
	if iso.stopped || n.bus == nil || n.closed.Load() {
		return time.Time{}, ErrNotRunning
	}
	until := time.Now().Add(d)
	if iso.timer != nil {
		iso.timer.Stop()
	}
	iso.until = until
	iso.timer = time.AfterFunc(d, func() { n.healAt(until) })
	n.bus.SetIsolated(true)
	n.log.Info("isolated: cut off the network", "for", d.Round(time.Millisecond), "until", until.Format(time.TimeOnly))
	n.emit(Event{Kind: EventIsolated, Until: until})
	return until, nil
}

// heal reconnects an isolated node at once; it reports whether the node
// was isolated.
func (n *Node) heal() bool {
	iso := &n.isolation
	iso.mu.Lock()
	defer iso.mu.Unlock()
	return n.healLocked()
}

// healAt is the timer's heal: only the isolation that set it ends.
func (n *Node) healAt(until time.Time) {
	iso := &n.isolation
	iso.mu.Lock()
	defer iso.mu.Unlock()
	if iso.until.Equal(until) {
		n.healLocked()
	}
}

func (n *Node) healLocked() bool {
	iso := &n.isolation
	if iso.until.IsZero() || iso.stopped {
		return false
	}
	if iso.timer != nil {
		iso.timer.Stop()
		iso.timer = nil
	}
	iso.until = time.Time{}
	n.bus.SetIsolated(false)
	n.log.Info("healed: rejoined the network")
	n.emit(Event{Kind: EventHealed})
	n.beat()             // the peers see us back at once
	n.requestConsensus() // and we learn at once what we missed
	return true
}

// isolatedUntil is when an isolated node rejoins; zero when it is
// connected.
func (n *Node) isolatedUntil() time.Time {
	n.isolation.mu.Lock()
	defer n.isolation.mu.Unlock()
	return n.isolation.until
}

// stopIsolation ends the isolation timer for good (Close): no heal runs
// after it returns.
func (n *Node) stopIsolation() {
	iso := &n.isolation
	iso.mu.Lock()
	defer iso.mu.Unlock()
	iso.stopped = true
	if iso.timer != nil {
		iso.timer.Stop()
		iso.timer = nil
	}
}
