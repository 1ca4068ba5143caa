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
		if err := n.syncFrom(ctx, c.id); err != nil && ctx.Err() == nil {
			n.stats.SyncFailures.Add(1)
			n.log.Warn("consensus sync", "peer", c.id, "err", err)
		}
	}
	if n.NATSConnected() {
		n.synced.Store(true)
	}
}

// presenceLoop publishes a beat every PresenceInterval and expires peers
// that missed three. Expiry is checked four times a beat, so a silent peer
// leaves the table between 3 and 3¼ beats after its last one (checked only
// at our own beats, it could stay up to 4).
func (n *Node) presenceLoop(ctx context.Context) {
	beat := time.NewTicker(n.cfg.PresenceInterval)
	defer beat.Stop()
	sweep := time.NewTicker(max(n.cfg.PresenceInterval/4, time.Millisecond))
	defer sweep.Stop()
	n.beat()
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			n.beat()
		case <-sweep.C:
			for _, p := range n.peers.expire(time.Now()) {
				n.log.Info("peer down", "peer", p.Name)
				n.emit(Event{Kind: EventPeerDown, Peer: &p})
			}
		}
	}
}

func (n *Node) beat() {
	s := n.State()
	if err := n.bus.PublishPresence(&s); err != nil {
		n.log.Debug("presence", "err", err)
	}
}

// onPresence updates the peer table; a peer ahead of us triggers a sync.
func (n *Node) onPresence(from string, s *events.NodeState) {
	if s.NodeID != from || from == n.cfg.ID {
		n.stats.natsDrop("presence-mismatch")
		return
	}
	w, ok := new(big.Int).SetString(s.Work, 10)
	if !ok || w.Sign() < 0 || len(s.Name) > 128 || len(s.URL) > 2048 {
		n.stats.natsDrop("bad-presence")
		return
	}
	if n.peers.seen(*s, time.Now()) {
		n.log.Info("peer up", "peer", s.Name, "url", s.URL)
		n.emit(Event{Kind: EventPeerUp, Peer: s})
	}
	if w.Cmp(n.chain.Tip().Work) > 0 && !n.chain.HasBlock(s.Tip) {
		n.requestSync(from)
	}
}
