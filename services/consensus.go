package services

import (
	"context"
	"math/big"
	"slices"
	"time"

	"github.com/pycotr/pycotr/events"
)

// requestConsensus asks the consensus loop for a round soon.
func (n *Node) requestConsensus() {
	select {
	case n.consReq <- struct{}{}:
	default:
	}
}

// consensusLoop runs a round on demand (after each mined block, on
// reconnect, at start) and every ConsensusInterval.
func (n *Node) consensusLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.ConsensusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.consReq:
		}
		n.consensusRound(ctx)
	}
}

// consensusRound asks every node for its tip (scatter-gather) and syncs
// from the ones with more work, best first, until ours is the most-work
// chain known.
func (n *Node) consensusRound(ctx context.Context) {
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	states, err := n.bus.GatherStates(gctx, n.cfg.GatherStall)
	cancel()
	if err != nil {
		n.log.Debug("consensus gather", "err", err)
		return
	}
	type cand struct {
		id   string
		work *big.Int
	}
	var cands []cand
	for _, s := range states {
		if s.NodeID == n.cfg.ID {
			continue
		}
		w, ok := new(big.Int).SetString(s.Work, 10)
		if !ok || !events.ValidNodeID(s.NodeID) {
			n.stats.natsDrop("bad-consensus-state")
			continue
		}
		cands = append(cands, cand{s.NodeID, w})
	}
	slices.SortFunc(cands, func(a, b cand) int { return b.work.Cmp(a.work) })
	for _, c := range cands {
		if c.work.Cmp(n.chain.Tip().Work) <= 0 {
			break
		}
		if err := n.sync.from(ctx, c.id); err != nil && ctx.Err() == nil {
			n.stats.syncFailures.Add(1)
			n.log.Warn("consensus sync", "peer", c.id, "err", err)
		}
	}
	if n.natsConnected() {
		n.synced.Store(true)
	}
}
