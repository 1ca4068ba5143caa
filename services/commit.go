package services

import (
	"errors"
	"sync"
)

// groupCommit runs one costly operation (an fsync, a NATS flush) for many
// callers at once: items queue, one goroutine takes everything queued and
// commits it in one call, then tells every waiter of that batch the
// result. While a commit runs the next batch gathers, so under load each
// caller pays about one commit's latency, and the commit rate, not the
// caller rate, bounds the cost. The queue is bounded: when it is full,
// callers wait (back-pressure), they are never dropped.
type groupCommit[T any] struct {
	commit   func([]T) error
	maxBatch int
	queue    chan commitReq[T]
	done     chan struct{}

	mu     sync.RWMutex // held for reading while sending on queue
	closed bool
}

type commitReq[T any] struct {
	item T
	done chan error // nil: nobody waits
}

// errCommitClosed answers items submitted after close.
var errCommitClosed = errors.New("committer closed")

func newGroupCommit[T any](queue, maxBatch int, commit func([]T) error) *groupCommit[T] {
	g := &groupCommit[T]{commit: commit, maxBatch: maxBatch, queue: make(chan commitReq[T], queue), done: make(chan struct{})}
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
	for r := range g.queue {
		items, waiters = append(items[:0], r.item), waiters[:0]
		if r.done != nil {
			waiters = append(waiters, r.done)
		}
	more:
		for len(items) < g.maxBatch {
			select {
			case r, ok := <-g.queue:
				if !ok {
					break more
				}
				items = append(items, r.item)
				if r.done != nil {
					waiters = append(waiters, r.done)
				}
			default:
				break more
			}
		}
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
