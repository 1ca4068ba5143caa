package services

import (
	"context"
	"math/big"
	"time"

	"github.com/pycotr/pycotr/events"
)

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
// The bus has checked the beat's signature: from's key signed it.
func (n *Node) onPresence(from string, s *events.NodeState) {
	if s.NodeID != from || from == n.ID() {
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
		n.requestInventory() // it may hold what we missed, and lack what we hold
	}
	if w.Cmp(n.chain.Tip().Work) > 0 && !n.chain.HasBlock(s.Tip) {
		n.sync.request(from, w)
	}
}
