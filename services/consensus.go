package services

import (
	"context"
	"math/big"
	"sync"
	"time"
)

// How a node learns of a better chain, at a cost per node that does not
// grow with the network (docs/SCALING.md):
//
//   - from what the network tells it anyway: a block whose parent it lacks
//     (an orphan: sync from its sender, blocks.go) and a beat that claims
//     more work than ours (sync from the beater, presence.go);
//   - a round that asks every node (scatter-gather on <prefix>.consensus)
//     only when it knows nothing of the network: at start, after a NATS
//     reconnect, after the fork lab's heal;
//   - every ConsensusInterval, a check of consensusSample peers picked at
//     random from the peer table, each asked on its own info endpoint: a
//     safety net for a beat or a block that was lost, costing O(k), not
//     O(N), per node.

// consensusSample is the number of peers a periodic check asks.
const consensusSample = 2

// infoTimeout bounds one info request of the periodic check.
const infoTimeout = 2 * time.Second

// requestConsensus asks the consensus loop for a round soon.
func (n *Node) requestConsensus() {
	select {
	case n.consReq <- struct{}{}:
	default:
	}
}

// consensusLoop runs a round on demand (at start, on reconnect, on heal)
// and a check of a sample of peers every ConsensusInterval.
func (n *Node) consensusLoop(ctx context.Context) {
	t := time.NewTicker(n.cfg.ConsensusInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n.checkSample(ctx)
		case <-n.consReq:
			n.consensusRound(ctx)
		}
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

// checkSample asks consensusSample random peers of the table for their
// state, point to point (<prefix>.node.<id>.info, signed by the peer), and
// catches up from those with more work than ours. A peer that does not
// answer is left to expire from the table.
func (n *Node) checkSample(ctx context.Context) {
	peers := n.peers.Sample(consensusSample)
	if len(peers) == 0 {
		return
	}
	var mu sync.Mutex
	var claims []claim
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() {
			ictx, cancel := context.WithTimeout(ctx, infoTimeout)
			s, err := n.bus.RequestInfo(ictx, p)
			cancel()
			if err != nil {
				n.log.Debug("consensus check", "peer", p, "err", err)
				return
			}
			w, ok := new(big.Int).SetString(s.Work, 10)
			if !ok || w.Sign() < 0 {
				n.stats.natsDrop("bad-consensus-state")
				return
			}
			mu.Lock()
			claims = append(claims, claim{peer: s.NodeID, work: w})
			mu.Unlock()
		})
	}
	wg.Wait()
	n.sync.catchUp(ctx, claims, nil)
}
