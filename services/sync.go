package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// syncer downloads the blocks peers have and this node lacks, by block
// locator, one sync at a time: on request (an orphan, a peer ahead of us)
// from its loop, and from consensus rounds.
type syncer struct {
	chain     *chain.Chain
	bus       *events.Bus
	stats     *counters
	log       *slog.Logger
	pageBytes int
	// accept hands a received block to the node's block intake.
	accept func(peer string, b *chain.Block) error

	mu    sync.Mutex // held by the one running sync
	queue struct {
		sync.Mutex
		pending map[string]struct{}
		order   []string
	}
	wake chan struct{}
}

func newSyncer(c *chain.Chain, bus *events.Bus, stats *counters, log *slog.Logger, pageBytes int,
	accept func(string, *chain.Block) error) *syncer {
	return &syncer{chain: c, bus: bus, stats: stats, log: log, pageBytes: pageBytes, accept: accept,
		wake: make(chan struct{}, 1)}
}

// request asks the sync loop to catch up from a peer. Requests are kept as
// a set, one entry per peer, so a burst of announcements from one peer
// never crowds out a request for another.
func (s *syncer) request(peer string) {
	s.queue.Lock()
	if s.queue.pending == nil {
		s.queue.pending = make(map[string]struct{})
	}
	_, queued := s.queue.pending[peer]
	if !queued && len(s.queue.pending) < maxPeers {
		s.queue.pending[peer] = struct{}{}
		s.queue.order = append(s.queue.order, peer)
	}
	s.queue.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // the loop is awake already and will see the queue
	}
}

// next takes the oldest queued sync request.
func (s *syncer) next() (string, bool) {
	s.queue.Lock()
	defer s.queue.Unlock()
	if len(s.queue.order) == 0 {
		return "", false
	}
	peer := s.queue.order[0]
	s.queue.order = s.queue.order[1:]
	delete(s.queue.pending, peer)
	return peer, true
}

// run runs the queued syncs, one at a time, until ctx ends.
func (s *syncer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		for peer, ok := s.next(); ok && ctx.Err() == nil; peer, ok = s.next() {
			if err := s.from(ctx, peer); err != nil && ctx.Err() == nil {
				s.stats.syncFailures.Add(1)
				s.log.Warn("sync failed", "peer", peer, "err", err)
			}
		}
	}
}

// maxSyncPages bounds one sync run, so a hostile peer cannot keep a node
// busy forever.
const maxSyncPages = 10_000

// from downloads, page by page, the blocks a peer has after our block
// locator: never a block we already have, never a whole chain.
//
// Syncs run one at a time (the sync loop and consensus rounds both sync):
// two concurrent syncs would send the same locator and receive the same
// blocks twice. Each page after the first names the last block received
// first in its locator, so a branch that does not yet have more work than
// ours (and so is not on our best chain, not in our locator) is continued,
// not sent again from the fork point.
func (s *syncer) from(ctx context.Context, peer string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pageBytes := s.pageBytes
	if mp := int(s.bus.MaxPayload()); mp > 0 && pageBytes > mp/2 {
		pageBytes = mp / 2 // JSON is larger than Block.Size counts
	}
	// The next page is asked for as soon as a page arrives, named by the
	// page's last block, so that its transfer and decoding overlap the
	// checking of the current page.
	fetch := func(last *chain.Hash) *pageFetch {
		locator := s.chain.Locator()
		if last != nil {
			locator = append([]chain.Hash{*last}, locator...)
		}
		return s.fetchPage(ctx, peer, events.BlocksRequest{Locator: locator, MaxBlocks: events.MaxBlocksPerPage, MaxBytes: pageBytes})
	}
	next := fetch(nil)
	defer func() {
		if next != nil {
			next.abandon()
		}
	}()
	for page := 0; page < maxSyncPages; page++ {
		cur := next
		next = nil
		reply, size, err := cur.wait()
		if err != nil {
			return fmt.Errorf("sync page %d from %s: %w", page, peer, err)
		}
		s.stats.syncPages.Add(1)
		s.stats.syncBytes.Add(uint64(size))
		if len(reply.Blocks) == 0 {
			return nil
		}
		if reply.More {
			h := reply.Blocks[len(reply.Blocks)-1].Hash()
			next = fetch(&h)
		}
		for i := range reply.Blocks {
			b := &reply.Blocks[i]
			s.stats.syncBlocks.Add(1)
			if s.chain.HasBlock(b.Hash()) {
				s.stats.syncRedundant.Add(1)
				continue
			}
			if err := s.accept(peer, b); err != nil && !errors.Is(err, chain.ErrDuplicateBlock) {
				return fmt.Errorf("sync from %s: %w", peer, err)
			}
		}
		if !reply.More {
			return nil
		}
	}
	return fmt.Errorf("sync from %s: more than %d pages", peer, maxSyncPages)
}

// pageFetch is one sync page request in flight, owned by syncer.from: it
// is waited for or abandoned (cancelled, then waited for) before from
// returns.
type pageFetch struct {
	cancel context.CancelFunc
	done   chan struct{}
	reply  *events.BlocksReply
	size   int
	err    error
}

// syncPageTimeout bounds one page request.
const syncPageTimeout = 10 * time.Second

func (s *syncer) fetchPage(ctx context.Context, peer string, req events.BlocksRequest) *pageFetch {
	rctx, cancel := context.WithTimeout(ctx, syncPageTimeout)
	f := &pageFetch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.reply, f.size, f.err = s.bus.RequestBlocks(rctx, peer, req)
	}()
	return f
}

func (f *pageFetch) wait() (*events.BlocksReply, int, error) {
	<-f.done
	f.cancel()
	return f.reply, f.size, f.err
}

func (f *pageFetch) abandon() {
	f.cancel()
	<-f.done
}
