package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// syncer downloads the blocks peers have and this node lacks, by block
// locator: on request (an orphan, a peer ahead of us) from its loop, and
// from consensus rounds. Both catch up the same way (catchUp): the first
// page is asked of every candidate at once, under one deadline, so a peer
// that does not serve costs at most one page timeout however many there
// are; the pages are then taken one peer at a time, so no block is
// downloaded twice. A peer that fails, or serves nothing new while
// claiming more work than ours, is backed off (peerBackoff).
type syncer struct {
	chain       *chain.Chain
	bus         *events.Bus
	stats       *counters
	log         *slog.Logger
	pageBytes   int
	pageTimeout time.Duration
	// accept hands a received block to the node's block intake.
	accept func(peer string, b *chain.Block) (chain.Outcome, error)

	mu    sync.Mutex // held while blocks are taken from a peer
	queue struct {
		sync.Mutex
		pending map[string]*big.Int // peer -> the work it claimed (nil: unknown)
		order   []string
	}
	backoff peerBackoff
	wake    chan struct{}
	probing struct { // peers the sync loop is asking for a first page
		sync.Mutex
		m map[string]bool
	}
}

func newSyncer(c *chain.Chain, bus *events.Bus, stats *counters, log *slog.Logger, pageBytes int,
	pageTimeout time.Duration, accept func(string, *chain.Block) (chain.Outcome, error)) *syncer {
	return &syncer{chain: c, bus: bus, stats: stats, log: log, pageBytes: pageBytes, pageTimeout: pageTimeout,
		accept: accept, wake: make(chan struct{}, 1)}
}

// claim is a peer to sync from and the work it claims (nil: unknown, as
// for the sender of an orphan block).
type claim struct {
	peer string
	work *big.Int
}

// request asks the sync loop to catch up from a peer that claims work
// (nil: unknown). Requests are kept as a set, one entry per peer, so a
// burst of announcements from one peer never crowds out a request for
// another; a peer backed off is not queued.
func (s *syncer) request(peer string, work *big.Int) {
	if s.backoff.active(peer, time.Now()) {
		return
	}
	s.queue.Lock()
	if s.queue.pending == nil {
		s.queue.pending = make(map[string]*big.Int)
	}
	_, queued := s.queue.pending[peer]
	if queued {
		s.queue.pending[peer] = work // the latest claim
	} else if len(s.queue.pending) < maxPeers {
		s.queue.pending[peer] = work
		s.queue.order = append(s.queue.order, peer)
	}
	s.queue.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // the loop is awake already and will see the queue
	}
}

// next takes the oldest queued sync request.
func (s *syncer) next() (claim, bool) {
	s.queue.Lock()
	defer s.queue.Unlock()
	if len(s.queue.order) == 0 {
		return claim{}, false
	}
	peer := s.queue.order[0]
	s.queue.order = s.queue.order[1:]
	c := claim{peer, s.queue.pending[peer]}
	delete(s.queue.pending, peer)
	return c, true
}

// run catches up from the queued peers until ctx ends: all those queued
// at once, in a catch-up of their own, so that a new request is not held
// up by a peer that has not answered yet. A peer already being asked is
// not asked again (its next beat will ask, if it is still ahead).
func (s *syncer) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		var claims []claim
		s.probing.Lock()
		if s.probing.m == nil {
			s.probing.m = make(map[string]bool)
		}
		for c, ok := s.next(); ok; c, ok = s.next() {
			if !s.probing.m[c.peer] {
				s.probing.m[c.peer] = true
				claims = append(claims, c)
			}
		}
		s.probing.Unlock()
		if len(claims) == 0 {
			continue
		}
		wg.Go(func() {
			s.catchUp(ctx, claims, func(peer string) {
				s.probing.Lock()
				delete(s.probing.m, peer)
				s.probing.Unlock()
			})
		})
	}
}

// maxProbes bounds the peers one catch-up asks at once.
const maxProbes = 8

// ahead reports whether a claim is still worth syncing: more work than
// our tip, or unknown.
func (s *syncer) ahead(c claim) bool { return c.work == nil || c.work.Cmp(s.chain.Tip().Work) > 0 }

// catchUp syncs from the claims that are ahead of us and not backed off,
// the most work first, at most maxProbes of them. Their first pages are
// asked for at once under one deadline (the page timeout), and taken as
// they arrive: a peer that answers late, or never, delays no one else.
// A first page asked for before another peer moved our tip is asked for
// again (with the new locator) rather than taken, so no block comes twice.
// done, if not nil, is called with each claim's peer once it is settled
// (or left out).
func (s *syncer) catchUp(ctx context.Context, claims []claim, done func(peer string)) {
	if done == nil {
		done = func(string) {}
	}
	now := time.Now()
	claims = slices.DeleteFunc(claims, func(c claim) bool {
		skip := s.backoff.active(c.peer, now) || !s.ahead(c)
		if skip {
			done(c.peer)
		}
		return skip
	})
	if len(claims) == 0 {
		return
	}
	slices.SortStableFunc(claims, func(a, b claim) int {
		switch {
		case a.work == nil && b.work == nil:
			return 0
		case a.work == nil:
			return 1
		case b.work == nil:
			return -1
		}
		return b.work.Cmp(a.work)
	})
	for _, c := range claims[min(len(claims), maxProbes):] {
		done(c.peer)
	}
	claims = claims[:min(len(claims), maxProbes)]
	byPeer := make(map[string]claim, len(claims))
	pctx, cancel := context.WithTimeout(ctx, s.pageTimeout)
	defer cancel()
	answers := make(chan *pageFetch, len(claims))
	tip := s.chain.Tip().Hash
	req := s.pageRequest(nil)
	for _, c := range claims {
		byPeer[c.peer] = c
		s.fetchPage(pctx, c.peer, req, answers)
	}
	for range claims {
		f := <-answers // each fetch ends by pctx's deadline
		c := byPeer[f.peer]
		got, err := s.takeFrom(ctx, c, f, tip)
		s.settle(ctx, c, got, err)
		done(c.peer)
	}
}

// takeFrom syncs from c's peer, starting with the page first, unless our
// tip has moved since it was asked for (then the page may repeat blocks we
// now hold, and is asked for again).
func (s *syncer) takeFrom(ctx context.Context, c claim, first *pageFetch, tip chain.Hash) (int, error) {
	first.wait()
	if first.err != nil {
		return 0, fmt.Errorf("sync page 0 from %s: %w", c.peer, first.err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ahead(c) {
		return 0, nil // another peer's blocks took us there
	}
	if s.chain.Tip().Hash != tip {
		first = nil
	}
	return s.from(ctx, c.peer, first)
}

// errNothingNew: a peer's sync page connected no block we lacked (all
// held, or orphans), or a peer that claimed more work than ours sent
// nothing.
var errNothingNew = errors.New("nothing new")

// settle records how a sync from a claim ended: a failure, or nothing new
// from a peer that claimed more work than ours, backs the peer off; blocks
// clear its record.
func (s *syncer) settle(ctx context.Context, c claim, got int, err error) {
	if ctx.Err() != nil {
		return
	}
	if err == nil && got == 0 && c.work != nil && s.ahead(c) {
		err = fmt.Errorf("sync from %s: claims work %s, sent %w", c.peer, c.work, errNothingNew)
	}
	if err == nil {
		if got > 0 {
			s.backoff.clear(c.peer)
		}
		return
	}
	s.stats.syncFailures.Add(1)
	d := s.backoff.penalize(c.peer, time.Now())
	s.log.Warn("sync failed", "peer", c.peer, "backoff", d, "err", err)
}

// maxSyncPages bounds one sync run, so a hostile peer cannot keep a node
// busy forever.
const maxSyncPages = 10_000

// from downloads, page by page, the blocks a peer has after our block
// locator: never a block we already have, never a whole chain. first, if
// not nil, is the first page already asked for. It returns the number of
// blocks it connected or stored. A page that brings nothing new ends the
// sync (errNothingNew).
//
// Called with s.mu held: two concurrent syncs would send the same locator
// and receive the same blocks twice. Each page after the first names the
// last block received first in its locator, so a branch that does not yet
// have more work than ours (and so is not on our best chain, not in our
// locator) is continued, not sent again from the fork point.
func (s *syncer) from(ctx context.Context, peer string, first *pageFetch) (int, error) {
	// The next page is asked for as soon as a page arrives, named by the
	// page's last block, so that its transfer and decoding overlap the
	// checking of the current page.
	fetch := func(last *chain.Hash) *pageFetch {
		return s.fetchPage(ctx, peer, s.pageRequest(last), nil)
	}
	next := first
	if next == nil {
		next = fetch(nil)
	}
	defer func() {
		if next != nil {
			next.abandon()
		}
	}()
	got := 0
	for page := 0; page < maxSyncPages; page++ {
		cur := next
		next = nil
		reply, size, err := cur.wait()
		if err != nil {
			return got, fmt.Errorf("sync page %d from %s: %w", page, peer, err)
		}
		s.stats.syncPages.Add(1)
		s.stats.syncBytes.Add(uint64(size))
		if len(reply.Blocks) == 0 {
			return got, nil
		}
		if reply.More {
			h := reply.Blocks[len(reply.Blocks)-1].Hash()
			next = fetch(&h)
		}
		fresh := 0
		for i := range reply.Blocks {
			b := &reply.Blocks[i]
			s.stats.syncBlocks.Add(1)
			if s.chain.HasBlock(b.Hash()) {
				s.stats.syncRedundant.Add(1)
				continue
			}
			out, err := s.accept(peer, b)
			if err != nil && !errors.Is(err, chain.ErrDuplicateBlock) {
				return got, fmt.Errorf("sync from %s: %w", peer, err)
			}
			if err == nil && out.Status == chain.StatusOrphan { // a page continues our chain or its own last block
				return got, fmt.Errorf("sync from %s: block %s does not connect", peer, out.Hash.Short())
			}
			if err == nil && out.Status != chain.StatusOrphan {
				fresh++
			}
		}
		got += fresh
		if fresh == 0 {
			return got, fmt.Errorf("sync page %d from %s: %w", page, peer, errNothingNew)
		}
		if !reply.More {
			return got, nil
		}
	}
	return got, fmt.Errorf("sync from %s: more than %d pages", peer, maxSyncPages)
}

// pageRequest asks for the blocks after our locator, or after last and
// then our locator.
func (s *syncer) pageRequest(last *chain.Hash) events.BlocksRequest {
	pageBytes := s.pageBytes
	if mp := int(s.bus.MaxPayload()); mp > 0 && pageBytes > mp/2 {
		pageBytes = mp / 2 // JSON is larger than Block.Size counts
	}
	locator := s.chain.Locator()
	if last != nil {
		locator = append([]chain.Hash{*last}, locator...)
	}
	return events.BlocksRequest{Locator: locator, MaxBlocks: events.MaxBlocksPerPage, MaxBytes: pageBytes}
}

// pageFetch is one sync page request in flight: it is waited for or
// abandoned (cancelled, then waited for) by its owner.
type pageFetch struct {
	peer   string
	cancel context.CancelFunc
	done   chan struct{}
	reply  *events.BlocksReply
	size   int
	err    error
}

// fetchPage asks peer for a page, within the page timeout (or ctx's
// deadline, if sooner). When notify is not nil, the fetch is sent on it
// once done; it must have room.
func (s *syncer) fetchPage(ctx context.Context, peer string, req events.BlocksRequest, notify chan<- *pageFetch) *pageFetch {
	rctx, cancel := context.WithTimeout(ctx, s.pageTimeout)
	f := &pageFetch{peer: peer, cancel: cancel, done: make(chan struct{})}
	go func() {
		f.reply, f.size, f.err = s.bus.RequestBlocks(rctx, peer, req)
		close(f.done)
		if notify != nil {
			notify <- f
		}
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
