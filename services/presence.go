package services

import (
	"context"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/pycotr/pycotr/events"
)

// Presence with a network-wide beat budget (docs/SCALING.md): a node that
// knows n nodes (itself included) beats every P·max(1, n/beatBudget), P
// the configured PresenceInterval, so the whole network sends about
// beatBudget beats per P however large it grows, and each node hears
// about beatBudget/P beats a second, not N/P. Each beat announces its
// sender's interval (interval_ms) and the sender's peers expire it after
// three, so a slower beat in a larger network is not taken for silence.
// What a node learns from beats about the network's best tip stays as
// fresh as before: it hears some node's tip every P/beatBudget or so;
// only one given peer's liveness is slower to notice.

// beatBudget is the number of nodes up to which each beats every P; above
// it, the interval grows with the network.
const beatBudget = 4

// maxBeatInterval bounds a node's beat interval and the interval a peer may
// announce (so a beat keeps a peer listed for at most three of it). With
// P = 2 s the interval reaches it at 14 400 nodes.
const maxBeatInterval = 2 * time.Hour

// beatInterval is the beat interval of a node that knows nodes nodes
// (itself included), base the configured PresenceInterval.
func beatInterval(base time.Duration, nodes int) time.Duration {
	d := base
	if nodes > beatBudget {
		d = time.Duration(int64(base) * int64(nodes) / beatBudget)
	}
	return min(d, max(maxBeatInterval, base))
}

// peerTTL is how long a peer stays listed after a beat that announced
// interval (0, from a node that did not say: fallback): three intervals,
// the announced one bounded to [1 ms, maxBeatInterval].
func peerTTL(interval, fallback time.Duration) time.Duration {
	if interval <= 0 {
		return fallback
	}
	return 3 * min(max(interval, time.Millisecond), maxBeatInterval)
}

// presenceLoop beats and expires the peers that missed three of their
// own beats. The next beat comes after 80–100 % of the interval the beat
// announced (a jitter, so nodes started together do not beat together).
// Expiry is checked four times per base interval. A forked peer's beat
// (onPresence) asks for an extra beat, at most one per base interval.
func (n *Node) presenceLoop(ctx context.Context) {
	base := n.cfg.PresenceInterval
	sweep := time.NewTicker(max(base/4, time.Millisecond))
	defer sweep.Stop()
	next := time.NewTimer(n.beat())
	defer next.Stop()
	var lastExtra time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
			next.Reset(n.beat())
		case <-n.beatReq:
			if time.Since(lastExtra) >= base {
				lastExtra = time.Now()
				n.beat()
			}
		case <-sweep.C:
			for _, p := range n.peers.expire(time.Now()) {
				n.log.Info("peer down", "peer", p.Name)
				n.emit(Event{Kind: EventPeerDown, Peer: &p})
			}
		}
	}
}

// beat publishes the node's state with its current beat interval, and
// returns when the next beat is due: 80–100 % of that interval.
func (n *Node) beat() time.Duration {
	s := n.State()
	if err := n.bus.PublishPresence(&s); err != nil {
		n.log.Debug("presence", "err", err)
	}
	d := max(time.Duration(s.IntervalMillis)*time.Millisecond, time.Millisecond)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// requestBeat asks the presence loop for an extra beat soon.
func (n *Node) requestBeat() {
	select {
	case n.beatReq <- struct{}{}:
	default:
	}
}

// onPresence updates the peer table. A peer ahead of us triggers a sync
// from it; a peer on a branch we do not know with less work than ours (the
// other side of a healed partition) gets an extra beat from us, so that
// it syncs from us without waiting for our next one: in a network of more
// than beatBudget nodes only some of us answer (each with probability
// beatBudget/n), the others' beats come often enough.
// The bus has checked the beat's signature: from's key signed it.
func (n *Node) onPresence(from string, s *events.NodeState) {
	if s.NodeID != from || from == n.ID() {
		n.stats.natsDrop("presence-mismatch")
		return
	}
	w, ok := new(big.Int).SetString(s.Work, 10)
	if !ok || w.Sign() < 0 || len(s.Name) > 128 || len(s.URL) > 2048 || s.IntervalMillis < 0 {
		n.stats.natsDrop("bad-presence")
		return
	}
	if n.peers.seen(*s, time.Now()) {
		n.log.Info("peer up", "peer", s.Name, "url", s.URL)
		n.emit(Event{Kind: EventPeerUp, Peer: s})
		n.requestInventory() // it may hold what we missed, and lack what we hold
	}
	if n.chain.HasBlock(s.Tip) {
		return
	}
	switch c := w.Cmp(n.chain.Tip().Work); {
	case c > 0:
		n.sync.request(from, w)
	case c < 0:
		if k := n.peers.Len() + 1; k <= beatBudget || rand.IntN(k) < beatBudget {
			n.requestBeat()
		}
	}
}
