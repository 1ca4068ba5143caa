package services

import (
	"encoding/json"
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/pycotr/pycotr/events"
)

// TestPresenceExpiryAndRestart: a stopped node leaves its peers' tables
// within 3 beats (+ one beat of tolerance); started again, it is back.
func TestPresenceExpiryAndRestart(t *testing.T) {
	testkit.CheckGoroutines(t)
	const beat = 200 * time.Millisecond
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	cfgs := make([]Config, 3)
	var nodes []*Node
	for i := range cfgs {
		nodes = append(nodes, startNodeAt(t, srv, g, i, func(_ int, c *Config) {
			c.PresenceInterval = beat
			cfgs[i] = *c
		}))
	}
	peersOf := func(n *Node) map[string]bool {
		m := map[string]bool{}
		for _, p := range n.Peers().List() {
			m[p.NodeID] = true
		}
		return m
	}
	testkit.Eventually(t, 5*time.Second, "everyone sees everyone", func() bool {
		return len(peersOf(nodes[0])) == 2 && len(peersOf(nodes[1])) == 2 && len(peersOf(nodes[2])) == 2
	})

	feed, unsub := nodes[0].Subscribe(64)
	defer unsub()
	gone := nodes[2]
	stopped := time.Now()
	gone.Close()
	waitEvent(t, feed, 10*beat, "peer down", func(e Event) bool {
		return e.Kind == EventPeerDown && e.Peer.NodeID == gone.ID()
	})
	took := time.Since(stopped)
	t.Logf("peer down %s after Close (beat %s)", took, beat)
	if took > 4*beat {
		t.Errorf("peer removed %s after it stopped, want within 3 beats + 1 (%s)", took, 4*beat)
	}

	testkit.Eventually(t, 2*beat, "node 2 drops it too", func() bool { return !peersOf(nodes[1])[gone.ID()] })
	if peersOf(nodes[0])[gone.ID()] {
		t.Error("still in node 1's table")
	}

	// Restart with the same configuration and key (same id), then a brand
	// new node.
	cfgs[2].NodeKey = gone.id.Key()
	back := startNode(t, cfgs[2])
	if back.ID() != gone.ID() {
		t.Fatalf("restarted with the same key as %s, got id %s", gone.ID(), back.ID())
	}
	waitEvent(t, feed, 10*beat, "peer up", func(e Event) bool {
		return e.Kind == EventPeerUp && e.Peer.NodeID == back.ID()
	})
	fresh := cfgs[2]
	fresh.NodeKey, fresh.Name = nil, "node-4"
	extra := startNode(t, fresh)
	testkit.Eventually(t, 10*beat, "both in every table", func() bool {
		return peersOf(nodes[0])[back.ID()] && peersOf(nodes[0])[extra.ID()] && peersOf(nodes[1])[extra.ID()]
	})
	// The restarted node works: it mines and its block reaches the others.
	back.Miner().Start()
	testkit.Eventually(t, 10*time.Second, "restarted node's block everywhere", func() bool {
		return back.Stats().BlocksMined > 0 && nodes[0].Chain().Height() > 0 && sameTip(nodes[0], nodes[1], back, extra)
	})
	back.Miner().Stop()
}

// TestMicroServiceDiscovery: `$SRV.INFO.pycotr-node` and
// `$SRV.PING.pycotr-node`, asked scatter-gather on a raw connection, get
// one answer per node, each with the blocks, info and consensus endpoints.
func TestMicroServiceDiscovery(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	nodes := startNodes(t, srv, g, 3, nil)
	nc := rawConn(t, srv)

	// gather collects the replies to a request until every node has
	// answered (or 10 s have passed), then any extra one that follows
	// within 300 ms.
	gather := func(subject string) []*nats.Msg {
		t.Helper()
		inbox := nats.NewInbox()
		sub, err := nc.SubscribeSync(inbox)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Unsubscribe()
		if err := nc.PublishRequest(subject, inbox, nil); err != nil {
			t.Fatal(err)
		}
		var out []*nats.Msg
		deadline := time.Now().Add(10 * time.Second)
		for len(out) < len(nodes) && time.Now().Before(deadline) {
			m, err := sub.NextMsg(time.Until(deadline))
			if err != nil {
				return out
			}
			out = append(out, m)
		}
		if m, err := sub.NextMsg(300 * time.Millisecond); err == nil {
			out = append(out, m)
		}
		return out
	}

	infos := gather("$SRV.INFO." + events.ServiceName)
	if len(infos) != len(nodes) {
		t.Fatalf("%d INFO replies, want %d", len(infos), len(nodes))
	}
	seen := map[string]bool{}
	for _, m := range infos {
		var info micro.Info
		if err := json.Unmarshal(m.Data, &info); err != nil {
			t.Fatal(err)
		}
		id := info.Metadata["node_id"]
		seen[id] = true
		subjects := map[string]string{}
		for _, ep := range info.Endpoints {
			subjects[ep.Name] = ep.Subject
		}
		want := map[string]string{
			"blocks":    "pycotr.node." + id + ".blocks",
			"info":      "pycotr.node." + id + ".info",
			"consensus": "pycotr.consensus",
		}
		for name, subj := range want {
			if subjects[name] != subj {
				t.Errorf("node %s endpoint %s on %q, want %q", id, name, subjects[name], subj)
			}
		}
		if info.Name != events.ServiceName || info.Version != events.ServiceVersion {
			t.Errorf("service %s %s", info.Name, info.Version)
		}
	}
	for _, n := range nodes {
		if !seen[n.ID()] {
			t.Errorf("no INFO from %s", n.Name())
		}
	}
	if pings := gather("$SRV.PING." + events.ServiceName); len(pings) != len(nodes) {
		t.Errorf("%d PING replies, want %d", len(pings), len(nodes))
	}
	// The consensus endpoint itself answers once per node.
	if states := gather("pycotr.consensus"); len(states) != len(nodes) {
		t.Errorf("%d consensus replies, want %d", len(states), len(nodes))
	}
}

// TestBeatIntervalKeepsTheNetworkBudget: up to beatBudget nodes each beats
// every P; beyond, every P·n/beatBudget, so the network's beats per P stay
// beatBudget; the interval is bounded, and so is what a peer may announce.
func TestBeatIntervalKeepsTheNetworkBudget(t *testing.T) {
	const p = 2 * time.Second
	for _, c := range []struct {
		nodes int
		want  time.Duration
	}{
		{1, p}, {3, p}, {beatBudget, p}, {12, 6 * time.Second}, {48, 24 * time.Second},
		{1000, 500 * time.Second}, {14_400, maxBeatInterval}, {100_000, maxBeatInterval},
	} {
		got := beatInterval(p, c.nodes)
		if got != c.want {
			t.Errorf("%d nodes: interval %s, want %s", c.nodes, got, c.want)
		}
		if c.nodes > beatBudget && got < maxBeatInterval {
			if perP := float64(c.nodes) * float64(p) / float64(got); perP < beatBudget-0.01 || perP > beatBudget+0.01 {
				t.Errorf("%d nodes: %.2f beats per P network-wide, want %d", c.nodes, perP, beatBudget)
			}
		}
	}
	for _, c := range []struct{ announced, want time.Duration }{
		{0, 6 * time.Second}, // not announced: three of the receiver's own
		{time.Microsecond, 3 * time.Millisecond},
		{12 * time.Second, 36 * time.Second},
		{24 * time.Hour, 3 * maxBeatInterval},
	} {
		if got := peerTTL(c.announced, 3*p); got != c.want {
			t.Errorf("announced %s: TTL %s, want %s", c.announced, got, c.want)
		}
	}
}

// TestPeersExpireByTheirOwnInterval: each peer is expired after three of
// the intervals its last beat announced, not the receiver's.
func TestPeersExpireByTheirOwnInterval(t *testing.T) {
	p := newPeers("", 3*time.Second)
	t0 := time.Now()
	p.seen(NodeState{NodeID: "fast", IntervalMillis: 1000}, t0)
	p.seen(NodeState{NodeID: "slow", IntervalMillis: 12_000}, t0)
	p.seen(NodeState{NodeID: "silent"}, t0) // no interval: the table's own TTL
	ids := func(s []NodeState) (out []string) {
		for _, e := range s {
			out = append(out, e.NodeID)
		}
		slices.Sort(out)
		return out
	}
	if gone := ids(p.expire(t0.Add(3 * time.Second))); len(gone) != 0 {
		t.Fatalf("expired at 3 s: %v", gone)
	}
	if gone := ids(p.expire(t0.Add(3*time.Second + time.Millisecond))); !slices.Equal(gone, []string{"fast", "silent"}) {
		t.Fatalf("expired just after 3 s: %v, want fast and silent", gone)
	}
	if gone := ids(p.expire(t0.Add(35 * time.Second))); len(gone) != 0 {
		t.Fatalf("expired at 35 s: %v", gone)
	}
	if gone := ids(p.expire(t0.Add(37 * time.Second))); !slices.Equal(gone, []string{"slow"}) {
		t.Fatalf("expired at 37 s: %v, want slow", gone)
	}
}

// TestPeersSample: the inventory round and the consensus check ask k
// random live peers, sampled from the table without copying it: k
// distinct live ids (all of them when fewer), any of them possible, never
// an expired one.
func TestPeersSample(t *testing.T) {
	p := newPeers("", 3*time.Second)
	t0 := time.Now()
	for i := range 10 {
		p.seen(NodeState{NodeID: fmt.Sprintf("peer-%d", i), IntervalMillis: 1000}, t0)
	}
	p.seen(NodeState{NodeID: "slow", IntervalMillis: 60_000}, t0)
	check := func(k, want int) []string {
		t.Helper()
		got := p.Sample(k)
		if len(got) != want {
			t.Fatalf("Sample(%d) = %v, want %d ids", k, got, want)
		}
		seen := map[string]bool{}
		for _, id := range got {
			if seen[id] || !p.Known(id) {
				t.Fatalf("Sample(%d) = %v: a repeated or unknown id", k, got)
			}
			seen[id] = true
		}
		return got
	}
	check(0, 0)
	check(2, 2)
	check(20, 11)
	// Each of 11 peers is picked by some sample of one in 2 000 (a miss
	// has probability (10/11)^2000, about 1e-83).
	picked := map[string]bool{}
	for range 2000 {
		picked[check(1, 1)[0]] = true
	}
	if len(picked) != 11 {
		t.Fatalf("samples of one picked %d of the 11 peers", len(picked))
	}
	p.expire(t0.Add(4 * time.Second)) // the ten fast ones expire, slow stays
	if got := check(2, 1); got[0] != "slow" || p.Known("peer-0") {
		t.Fatalf("after expiry: Sample(2) = %v, Known(peer-0) = %v", got, p.Known("peer-0"))
	}
}
