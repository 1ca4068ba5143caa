package services

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// onBlock is block intake from a peer's announcement: connect it, or keep
// it as an orphan and sync the missing ancestors from that peer.
func (n *Node) onBlock(from string, b *chain.Block) {
	if n.chain.HasBlock(b.Hash()) {
		return
	}
	out, err := n.processBlock(b)
	n.afterProcess(from, out, err)
	if err == nil && out.Status == chain.StatusOrphan {
		n.requestSync(from)
	}
}

// afterProcess records what a processed block did: metrics, the source
// chain id, events.
func (n *Node) afterProcess(source string, out chain.Outcome, err error) {
	if err != nil {
		if errors.Is(err, chain.ErrDuplicateBlock) {
			return
		}
		n.stats.blockReject(reason(err))
		n.log.Warn("block rejected", "from", source, "hash", out.Hash.Short(), "err", err)
		// A failed reorg may still have moved the tip to a valid prefix.
		if len(out.Connected) == 0 {
			return
		}
	}
	if source != n.cfg.ID {
		n.stats.BlocksAccepted.Add(1)
	}
	if len(out.Connected) == 0 {
		return
	}
	n.source.Store(source)
	if len(out.Disconnected) > 0 {
		n.stats.Reorgs.Add(1)
		n.stats.ReorgDepthTotal.Add(uint64(len(out.Disconnected)))
		e := Event{Kind: EventReorg, Depth: len(out.Disconnected), Source: source}
		for _, b := range out.Disconnected {
			e.Dropped = append(e.Dropped, b.Hash().String())
		}
		for _, b := range out.Connected {
			e.Added = append(e.Added, b.Hash().String())
		}
		for _, tx := range out.Returned {
			e.Returned = append(e.Returned, tx.ID)
		}
		n.emit(e)
		// Transactions of dropped blocks are back in our mempool: relay
		// them, so peers that never saw them (the other side of a healed
		// partition) can mine them too.
		if n.bus != nil {
			for i := range out.Returned {
				if err := n.bus.PublishTx(&out.Returned[i]); err != nil {
					n.log.Debug("relay returned transaction", "err", err)
				}
			}
		}
		n.log.Info("reorganized", "depth", e.Depth, "added", len(e.Added), "returned", len(e.Returned), "tip", out.Tip.Hash.Short())
	}
	status := "extended"
	if len(out.Disconnected) > 0 {
		status = "reorganized"
	}
	for _, b := range out.Connected {
		n.emit(Event{Kind: EventBlock, Hash: b.Hash().String(), Height: b.Header.Height,
			Miner: string(b.Miner()), Source: source, Status: status, Txs: len(b.Txs)})
	}
}

// requestSync asks the sync loop to catch up from a peer. Requests are
// kept as a set, one entry per peer, so a burst of announcements from one
// peer never crowds out a request for another.
func (n *Node) requestSync(peer string) {
	n.syncQ.Lock()
	if n.syncQ.pending == nil {
		n.syncQ.pending = make(map[string]struct{})
	}
	_, queued := n.syncQ.pending[peer]
	if !queued && len(n.syncQ.pending) < maxPeers {
		n.syncQ.pending[peer] = struct{}{}
		n.syncQ.order = append(n.syncQ.order, peer)
	}
	n.syncQ.Unlock()
	select {
	case n.syncWake <- struct{}{}:
	default: // the loop is awake already and will see the queue
	}
}

// nextSync takes the oldest queued sync request.
func (n *Node) nextSync() (string, bool) {
	n.syncQ.Lock()
	defer n.syncQ.Unlock()
	if len(n.syncQ.order) == 0 {
		return "", false
	}
	peer := n.syncQ.order[0]
	n.syncQ.order = n.syncQ.order[1:]
	delete(n.syncQ.pending, peer)
	return peer, true
}

// syncLoop runs the queued syncs, one at a time.
func (n *Node) syncLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.syncWake:
		}
		for peer, ok := n.nextSync(); ok && ctx.Err() == nil; peer, ok = n.nextSync() {
			if err := n.syncFrom(ctx, peer); err != nil && ctx.Err() == nil {
				n.stats.SyncFailures.Add(1)
				n.log.Warn("sync failed", "peer", peer, "err", err)
			}
		}
	}
}

// maxSyncPages bounds one sync run, so a hostile peer cannot keep a node
// busy forever.
const maxSyncPages = 10_000

// syncFrom downloads, page by page, the blocks a peer has after our
// block locator: never a block we already have, never a whole chain.
//
// Syncs run one at a time (the sync loop and consensus rounds both sync):
// two concurrent syncs would send the same locator and receive the same
// blocks twice. Each page after the first names the last block received
// first in its locator, so a branch that does not yet have more work than
// ours (and so is not on our best chain, not in our locator) is continued,
// not sent again from the fork point.
func (n *Node) syncFrom(ctx context.Context, peer string) error {
	n.syncMu.Lock()
	defer n.syncMu.Unlock()
	pageBytes := n.cfg.SyncPageBytes
	if mp := int(n.bus.MaxPayload()); mp > 0 && pageBytes > mp/2 {
		pageBytes = mp / 2 // JSON is larger than Block.Size counts
	}
	// The next page is asked for as soon as a page arrives, named by the
	// page's last block, so that its transfer and decoding overlap the
	// checking of the current page.
	fetch := func(last *chain.Hash) *pageFetch {
		locator := n.chain.Locator()
		if last != nil {
			locator = append([]chain.Hash{*last}, locator...)
		}
		return n.fetchPage(ctx, peer, events.BlocksRequest{Locator: locator, MaxBlocks: events.MaxBlocksPerPage, MaxBytes: pageBytes})
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
		n.stats.SyncPages.Add(1)
		n.stats.SyncBytes.Add(uint64(size))
		if len(reply.Blocks) == 0 {
			return nil
		}
		if reply.More {
			h := reply.Blocks[len(reply.Blocks)-1].Hash()
			next = fetch(&h)
		}
		for i := range reply.Blocks {
			b := &reply.Blocks[i]
			n.stats.SyncBlocks.Add(1)
			if n.chain.HasBlock(b.Hash()) {
				n.stats.SyncRedundant.Add(1)
				continue
			}
			out, err := n.processRequestedBlock(b)
			n.afterProcess(peer, out, err)
			if err != nil && !errors.Is(err, chain.ErrDuplicateBlock) {
				return fmt.Errorf("sync from %s: %w", peer, err)
			}
			if out.Status == chain.StatusOrphan { // a page continues our chain or its own last block
				return fmt.Errorf("sync from %s: block %s does not connect", peer, out.Hash.Short())
			}
		}
		if !reply.More {
			return nil
		}
	}
	return fmt.Errorf("sync from %s: more than %d pages", peer, maxSyncPages)
}

// pageFetch is one sync page request in flight, owned by syncFrom: it is
// waited for or abandoned (cancelled, then waited for) before syncFrom
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

func (n *Node) fetchPage(ctx context.Context, peer string, req events.BlocksRequest) *pageFetch {
	rctx, cancel := context.WithTimeout(ctx, syncPageTimeout)
	f := &pageFetch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(f.done)
		f.reply, f.size, f.err = n.bus.RequestBlocks(rctx, peer, req)
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

// responder answers the node's request-reply endpoints.
type responder struct{ n *Node }

func (r responder) State() events.NodeState { return r.n.State() }

func (r responder) BlocksAfter(req events.BlocksRequest) events.BlocksReply {
	maxBlocks := req.MaxBlocks
	if maxBlocks <= 0 || maxBlocks > events.MaxBlocksPerPage {
		maxBlocks = events.MaxBlocksPerPage
	}
	maxBytes := req.MaxBytes
	if limit := events.MaxReplyMessage / 2; maxBytes <= 0 || maxBytes > limit {
		maxBytes = limit
	}
	blocks, more := r.n.chain.BlocksAfter(req.Locator, maxBlocks, maxBytes)
	out := events.BlocksReply{More: more, TipHeight: r.n.chain.Height(), Blocks: make([]chain.Block, len(blocks))}
	for i, b := range blocks {
		out.Blocks[i] = *b
	}
	return out
}
