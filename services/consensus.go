package services

import (
	"context"
	"math/big"
	"time"
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

// consensusRound asks every node for its tip (scatter-gather) and catches
// up from the ones with more work than ours. The bus keeps one signed reply
// per node (a node answering many times, or for another, is dropped); the
// syncer asks them all at once, most work first, and skips those backed
// off, so a peer that lies about its tip or does not serve costs the round
// at most one page timeout.
func (n *Node) consensusRound(ctx context.Context) {
	gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	states, err := n.bus.GatherStates(gctx, n.cfg.GatherStall)
	cancel()
	if err != nil {
		n.log.Debug("consensus gather", "err", err)
		return
	}
	var claims []claim
	for _, s := range states {
		if s.NodeID == n.ID() {
			continue
		}
		w, ok := new(big.Int).SetString(s.Work, 10)
		if !ok || w.Sign() < 0 {
			n.stats.natsDrop("bad-consensus-state")
			continue
		}
		claims = append(claims, claim{peer: s.NodeID, work: w})
	}
	n.sync.catchUp(ctx, claims, nil)
	if n.natsConnected() && ctx.Err() == nil {
		n.synced.Store(true)
	}
}
