package services

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

// fakeTipPeer is one raw NATS connection that plays three nodes of its own
// (three keys) claiming far more work than anyone: it answers every
// consensus request many times over (three times as each of its nodes,
// and as the honest node with its own key), beats presence as each, and
// never answers a request for blocks. It counts the block requests.
type fakeTipPeer struct {
	ids   []*events.Identity
	mu    sync.Mutex
	asked map[string]int // fake node id -> block requests received
}

func startFakeTipPeer(t *testing.T, srv *events.Server, victim, honest *Node) *fakeTipPeer {
	t.Helper()
	nc := rawConn(t, srv)
	f := &fakeTipPeer{asked: map[string]int{}}
	for range 3 {
		f.ids = append(f.ids, newIdentity(t))
	}
	lie := func(id *events.Identity) []byte {
		s := victim.State()
		s.NodeID, s.ChainID, s.Name, s.URL = id.ID(), id.ID(), "fake", "http://fake.invalid"
		s.Work, s.Tip, s.Height = strings.Repeat("9", 60), chain.Hash{0xfa}, 1_000_000
		data, err := events.Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	if _, err := nc.Subscribe("pycotr.consensus", func(m *nats.Msg) {
		for _, id := range f.ids {
			data := lie(id)
			for range 3 {
				m.RespondMsg(&nats.Msg{Header: signedHeader(id, events.KindConsensus, data), Data: data})
			}
		}
		// As the honest node: its id in header and body, signed with a
		// fake key (does not hash to the id), and unsigned.
		spoof := strings.ReplaceAll(string(lie(f.ids[0])), f.ids[0].ID(), honest.ID())
		h := signedHeader(f.ids[0], events.KindConsensus, []byte(spoof))
		h.Set(events.HeaderNode, honest.ID())
		m.RespondMsg(&nats.Msg{Header: h, Data: []byte(spoof)})
		h.Del(events.HeaderSig)
		m.RespondMsg(&nats.Msg{Header: h, Data: []byte(spoof)})
	}); err != nil {
		t.Fatal(err)
	}
	for _, id := range f.ids {
		if _, err := nc.Subscribe("pycotr.node."+id.ID()+".blocks", func(*nats.Msg) {
			f.mu.Lock()
			f.asked[id.ID()]++
			f.mu.Unlock()
			// never answered
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	beat := func() {
		for _, id := range f.ids {
			data := lie(id)
			if err := nc.PublishMsg(&nats.Msg{Subject: "pycotr.presence", Header: signedHeader(id, events.KindPresence, data), Data: data}); err != nil {
				return // closed at the end of the test
			}
		}
	}
	beat()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				beat()
			}
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
	return f
}

// askedAll reports whether every fake node has been asked for blocks.
func (f *fakeTipPeer) askedAll() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.asked) == len(f.ids)
}

// TestFakeTipPeerCostsAtMostOneTimeout: with a peer present that claims a
// far higher tip under three identities, answers each consensus request
// eleven times and never serves a page, a node catches up with an honest
// peer 30 blocks ahead within one page timeout (plus slack), again and
// again; a node started meanwhile is ready within the same bound. Before
// the fix, each fake reply cost a round a whole timeout, in turn.
func TestFakeTipPeerCostsAtMostOneTimeout(t *testing.T) {
	testkit.CheckGoroutines(t)
	const timeout = 2 * time.Second
	const slack = 1500 * time.Millisecond
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	cfg := func(_ int, c *Config) {
		c.ConsensusInterval = 200 * time.Millisecond
		c.SyncPageTimeout = timeout
	}
	nodes := startNodes(t, srv, g, 2, cfg)
	v, h := nodes[0], nodes[1]
	testkit.Eventually(t, 5*time.Second, "both ready", func() bool {
		okV, _ := v.Ready()
		okH, _ := h.Ready()
		return okV && okH
	})

	fake := startFakeTipPeer(t, srv, v, h)
	testkit.Eventually(t, 5*time.Second, "the victim asks each fake node for blocks", fake.askedAll)

	var worst time.Duration
	for round := range 3 {
		extend(t, h, 30) // not announced: v learns of it by h's beats
		start := time.Now()
		testkit.Eventually(t, timeout+slack+5*time.Second, "the victim catches up", func() bool { return sameTip(v, h) })
		took := time.Since(start)
		t.Logf("round %d: caught up with 30 blocks in %s (page timeout %s)", round+1, took.Round(time.Millisecond), timeout)
		worst = max(worst, took)
	}
	if worst > timeout+slack {
		t.Errorf("catching up took up to %s with the fake peer present, want within one page timeout (%s) + %s", worst, timeout, slack)
	}

	// A node started now, with the fake peer present, is ready (its first
	// round done) and caught up within the same bound.
	start := time.Now()
	late := startNodeAt(t, srv, g, 2, cfg)
	testkit.Eventually(t, timeout+slack+5*time.Second, "the new node is ready and caught up", func() bool {
		ok, _ := late.Ready()
		return ok && sameTip(late, h)
	})
	took := time.Since(start)
	t.Logf("a node started beside the fake peer: ready and caught up in %s", took.Round(time.Millisecond))
	if took > timeout+slack {
		t.Errorf("new node ready after %s, want within %s + %s", took, timeout, slack)
	}

	// The fake's replies reach the rounds that ask every node: the new
	// node's first (the victim's ran before the fake was there, and a
	// running node asks everyone only on reconnect, consensus.go).
	drops := late.Stats().NATSDrops
	t.Logf("victim: drops %v, sync failures %d; new node: drops %v", v.Stats().NATSDrops, v.Stats().SyncFailures, drops)
	if drops[events.DropDuplicate] == 0 || drops[events.DropBadSignature] == 0 {
		t.Errorf("duplicate and spoofed consensus replies not dropped and counted: %v", drops)
	}
	// The honest node is gathered once, with its own URL.
	if !slices.Contains(v.Peers().URLs(), h.PublicURL()) {
		t.Errorf("peer URLs %v lack the honest %s", v.Peers().URLs(), h.PublicURL())
	}
	checkLedgers(t, v, h, late)
}

// TestSpoofedBeatIsDroppedAndKeepsTheHonestURL: a raw client beats as the
// honest node (its id in header and body, another URL), unsigned and
// signed with a key of its own. Both are dropped as bad-signature; the
// victim's peer list keeps the honest URL.
func TestSpoofedBeatIsDroppedAndKeepsTheHonestURL(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	nodes := startNodes(t, srv, g, 2, nil)
	v, h := nodes[0], nodes[1]
	testkit.Eventually(t, 5*time.Second, "v lists h", func() bool { return slices.Contains(v.Peers().URLs(), h.PublicURL()) })

	nc := rawConn(t, srv)
	thief := newIdentity(t)
	s := h.State()
	s.URL = "http://thief.invalid"
	data, err := events.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	signedByThief := signedHeader(thief, events.KindPresence, data)
	signedByThief.Set(events.HeaderNode, h.ID())
	unsigned := nats.Header{}
	unsigned.Set(events.HeaderVersion, events.ProtocolVersion)
	unsigned.Set(events.HeaderNode, h.ID())
	before := v.Stats().NATSDrops[events.DropBadSignature]
	const beats = 20
	for range beats {
		for _, hdr := range []nats.Header{signedByThief, unsigned} {
			if err := nc.PublishMsg(&nats.Msg{Subject: "pycotr.presence", Header: hdr, Data: data}); err != nil {
				t.Fatal(err)
			}
		}
	}
	testkit.Eventually(t, 5*time.Second, "every spoofed beat dropped as bad-signature", func() bool {
		return v.Stats().NATSDrops[events.DropBadSignature]-before == 2*beats
	})
	urls := v.Peers().URLs()
	if !slices.Contains(urls, h.PublicURL()) || slices.Contains(urls, s.URL) {
		t.Errorf("victim's peer URLs %v, want the honest %s and not %s", urls, h.PublicURL(), s.URL)
	}
	for _, p := range v.Peers().List() {
		if p.NodeID == h.ID() && p.URL != h.PublicURL() {
			t.Errorf("h listed with URL %s", p.URL)
		}
	}
}
