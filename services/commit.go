package services

import (
	"errors"
	"sync"
	"time"
)

// groupCommit runs one costly operation (an fsync, a NATS flush) for many
// callers at once: items queue, one goroutine takes everything queued and
// commits it in one call, then tells every waiter of that batch the
// result. While a commit runs the next batch gathers, so under load each
// caller pays about one commit's latency, and the commit rate, not the
// caller rate, bounds the cost. The queue is bounded: when it is full,
// callers wait (back-pressure), they are never dropped.
//
// A commit that is quick next to the callers' own work (an fdatasync of
// 0.2 ms against a transaction's verification and HTTP round trip) would
// take batches of one or two under load, and pay a commit per caller
// after all. So under load (the previous batch held more than one item) a
// batch smaller than lingerMin waits up to linger for more callers before
// it commits, as PostgreSQL's commit_delay does. A lone caller, whose
// previous batch was itself, never waits.
type groupCommit[T any] struct {
	commit    func([]T) error
	maxBatch  int
	linger    time.Duration // 0: never
	lingerMin int
	queue     chan commitReq[T]
	done      chan struct{}

	mu     sync.RWMutex // held for reading while sending on queue
	closed bool
}

type commitReq[T any] struct {
	item T
	done chan error // nil: nobody waits
}

// errCommitClosed answers items submitted after close.
var errCommitClosed = errors.New("committer closed")

// groupOptions size a groupCommit.
type groupOptions struct {
	queue, maxBatch int           // the queue's capacity; the most items one commit takes
	linger          time.Duration // under load, how long a small batch waits for more (0: never)
	lingerMin       int           // a batch this large commits at once
}

func newGroupCommit[T any](o groupOptions, commit func([]T) error) *groupCommit[T] {
	g := &groupCommit[T]{commit: commit, maxBatch: o.maxBatch, linger: o.linger, lingerMin: o.lingerMin,
		queue: make(chan commitReq[T], o.queue), done: make(chan struct{})}
	go g.run()
	return g
}

// submit queues item; if wait, the returned channel yields the result of
// the commit that holds it, else it is nil.
func (g *groupCommit[T]) submit(item T, wait bool) <-chan error {
	r := commitReq[T]{item: item}
	if wait {
		r.done = make(chan error, 1)
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		if wait {
			r.done <- errCommitClosed
		}
		return r.done
	}
	g.queue <- r
	return r.done
}

func (g *groupCommit[T]) run() {
	defer close(g.done)
	items := make([]T, 0, g.maxBatch)
	var waiters []chan error
	var timer *time.Timer
	if g.linger > 0 {
		timer = time.NewTimer(time.Hour)
		timer.Stop()
	}
	take := func(r commitReq[T]) {
		items = append(items, r.item)
		if r.done != nil {
			waiters = append(waiters, r.done)
		}
	}
	loaded := false // the previous batch held more than one item
	for r := range g.queue {
		items, waiters = items[:0], waiters[:0]
		take(r)
		lingering := false
	more:
		for len(items) < g.maxBatch {
			select {
			case r, ok := <-g.queue:
				if !ok {
					break more
				}
				take(r)
				continue
			default:
			}
			if !loaded || timer == nil || len(items) >= g.lingerMin {
				break
			}
			if !lingering {
				lingering = true
				timer.Reset(g.linger)
			}
			select {
			case r, ok := <-g.queue:
				if !ok {
					break more
				}
				take(r)
			case <-timer.C:
				lingering = false
				break more
			}
		}
		if lingering {
			timer.Stop()
		}
		loaded = len(items) > 1
		err := g.commit(items)
		for _, w := range waiters {
			w <- err
		}
		clear(items) // let the items go
	}
}

// close commits what is queued, then stops; later submissions fail.
func (g *groupCommit[T]) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.queue)
	}
	g.mu.Unlock()
	<-g.done
}
