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
	out, err := n.chain.ProcessBlock(b)
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

// requestSync asks the sync loop to catch up from a peer.
func (n *Node) requestSync(peer string) {
	select {
	case n.syncReq <- peer:
	default: // a sync is queued already; it will see the newest state
	}
}

// syncLoop runs one sync at a time.
func (n *Node) syncLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case peer := <-n.syncReq:
			if err := n.syncFrom(ctx, peer); err != nil && ctx.Err() == nil {
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
func (n *Node) syncFrom(ctx context.Context, peer string) error {
	pageBytes := n.cfg.SyncPageBytes
	if mp := int(n.bus.MaxPayload()); mp > 0 && pageBytes > mp/2 {
		pageBytes = mp / 2 // JSON is larger than Block.Size counts
	}
	for page := 0; page < maxSyncPages; page++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		reply, size, err := n.bus.RequestBlocks(rctx, peer, events.BlocksRequest{
			Locator: n.chain.Locator(), MaxBlocks: events.MaxBlocksPerPage, MaxBytes: pageBytes,
		})
		cancel()
		if err != nil {
			return fmt.Errorf("sync page %d from %s: %w", page, peer, err)
		}
		n.stats.SyncPages.Add(1)
		n.stats.SyncBytes.Add(uint64(size))
		if len(reply.Blocks) == 0 {
			return nil
		}
		for i := range reply.Blocks {
			b := &reply.Blocks[i]
			n.stats.SyncBlocks.Add(1)
			if n.chain.HasBlock(b.Hash()) {
				n.stats.SyncRedundant.Add(1)
				continue
			}
			out, err := n.chain.ProcessBlock(b)
			n.afterProcess(peer, out, err)
			if err != nil && !errors.Is(err, chain.ErrDuplicateBlock) {
				return fmt.Errorf("sync from %s: %w", peer, err)
			}
		}
		if !reply.More {
			return nil
		}
	}
	return fmt.Errorf("sync from %s: more than %d pages", peer, maxSyncPages)
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
