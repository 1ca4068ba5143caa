package services

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

func TestTxReachesAllMempoolsAndBlocksAllTips(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	var nodes []*Node
	for i := range 3 {
		cfg := testNodeConfig(t, i, g)
		cfg.Embedded = srv
		nodes = append(nodes, startNode(t, cfg))
	}
	tx := fund(t, nodes[0], testKey(t, 5), 100)
	for _, n := range nodes {
		testkit.Eventually(t, 5*time.Second, n.Name()+" has the tx pending", func() bool { return n.Chain().HasTx(tx.ID) })
	}
	nodes[1].Miner().Start()
	testkit.Eventually(t, 10*time.Second, "a block confirms the tx everywhere", func() bool {
		for _, n := range nodes {
			if n.Chain().Balance(tx.To) != 100 {
				return false
			}
		}
		return true
	})
	nodes[1].Miner().Stop()
	testkit.Eventually(t, 5*time.Second, "all nodes share one tip", func() bool {
		tip := nodes[0].Chain().Tip().Hash
		return nodes[1].Chain().Tip().Hash == tip && nodes[2].Chain().Tip().Hash == tip
	})
	for _, n := range nodes {
		if err := n.Chain().CheckInvariant(); err != nil {
			t.Error(err)
		}
	}
}

func TestLoneNodeBecomesReady(t *testing.T) {
	testkit.CheckGoroutines(t)
	n := startNodeAt(t, startServer(t, events.ServerConfig{}), testGenesis(t, 8), 0, nil)
	testkit.Eventually(t, 5*time.Second, "a node alone on NATS is ready", func() bool { ok, _ := n.Ready(); return ok })
}

func TestRegisteredPeerURLsAreBounded(t *testing.T) {
	n, err := New(testNodeConfig(t, 0, testGenesis(t, 8)))
	if err != nil {
		t.Fatal(err)
	}
	n.Peers().Register(n.PublicURL())
	for i := range maxPeers + 10 {
		n.Peers().Register(fmt.Sprintf("http://peer-%d:3001", i))
	}
	if got := len(n.Peers().URLs()); got != maxPeers {
		t.Fatalf("%d registered URLs kept, want the cap %d", got, maxPeers)
	}
}

// SubmitTxs judges each transaction on its own, and what it accepts
// reaches the other nodes by relay (not by the inventory exchange, which
// is an hour away here), every transaction once.
func TestSubmitTxsRelaysEveryAcceptedOne(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	nodes := startNodes(t, srv, g, 3, func(_ int, c *Config) { c.InventoryInterval = time.Hour })
	for _, n := range nodes { // a peer's arrival starts an exchange at once: let them all arrive first
		testkit.Eventually(t, 5*time.Second, n.Name()+" sees both peers", func() bool { return len(n.Peers().List()) == 2 })
	}
	var txs []*chain.Tx
	for i := range 40 {
		tx := chaintest.Mint(t, testKey(t, 4+i%3), int64(10+i), 0)
		txs = append(txs, &tx)
	}
	dup := *txs[7]
	txs = append(txs, &dup) // already pending by then: refused, the others unaffected
	errs := nodes[0].SubmitTxs(txs)
	for i, err := range errs {
		if i < 40 && err != nil {
			t.Errorf("transaction %d: %v", i, err)
		}
	}
	if !errors.Is(errs[40], chain.ErrAlreadyPending) {
		t.Errorf("the duplicate: %v, want ErrAlreadyPending", errs[40])
	}
	for _, n := range nodes[1:] {
		testkit.Eventually(t, 5*time.Second, n.Name()+" holds the 40 by relay", func() bool {
			count, _ := n.Chain().MempoolStats()
			return count == 40 && n.Stats().TxAccepted["relay"] == 40
		})
	}
	if got := nodes[0].Stats().TxAccepted["local"]; got != 40 {
		t.Errorf("node 1 accepted %d locally, want 40", got)
	}
}

// TestEventsCarryTheirTime: an event says when it happened on the node
// (its chain connected the block), not when a subscriber read it: a
// subscriber that reads late (the scale bench's watchers, a slow SSE
// client) still gets the node's moment.
func TestEventsCarryTheirTime(t *testing.T) {
	testkit.CheckGoroutines(t)
	n := startNodeAt(t, startServer(t, events.ServerConfig{}), testGenesis(t, 8), 0, nil)
	ch, unsub := n.Subscribe(64)
	defer unsub()
	before := time.Now()
	n.Miner().Start()
	var e Event
	testkit.Eventually(t, 10*time.Second, "the node mines a block", func() bool {
		select {
		case e = <-ch:
			return e.Kind == EventBlock
		default:
			return false
		}
	})
	n.Miner().Stop()
	read := time.Now()
	if e.Time.IsZero() || e.Time.Before(before) || e.Time.After(read) {
		t.Fatalf("block event time %v, want between the start of mining %v and its reading %v", e.Time, before, read)
	}
}

// A block that ties the tip is stored beside it and reported as a
// side-block (the first seen stays the tip); when its branch later gains
// the most work, block events follow for it and its child.
func TestSideBlockEvent(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	n := startNodeAt(t, startServer(t, events.ServerConfig{}), g, 0, nil)
	ch, unsub := n.Subscribe(64)
	defer unsub()
	tip, _ := n.Chain().BlockAt(n.Chain().Height())
	p := g.Params
	a := chaintest.NextBlock(t, p, tip, chaintest.Addr(1))
	b := chaintest.NextBlock(t, p, tip, chaintest.Addr(2))
	c := chaintest.NextBlock(t, p, b, chaintest.Addr(2))
	next := func(what string) Event {
		t.Helper()
		return waitEvent(t, ch, 5*time.Second, what, func(e Event) bool {
			return e.Kind == EventBlock || e.Kind == EventSideBlock
		})
	}

	n.acceptBlock("peer", a)
	if e := next("A's event"); e.Kind != EventBlock || e.Hash != a.Hash().String() {
		t.Fatalf("first block: %s %s, want block %s", e.Kind, e.Hash, a.Hash())
	}
	n.acceptBlock("peer", b)
	e := next("B's event")
	if e.Kind != EventSideBlock || e.Hash != b.Hash().String() || e.Height != b.Header.Height ||
		e.Status != "side-branch" || e.Source != "peer" || e.Time.IsZero() {
		t.Fatalf("tying block: %+v, want a side-block event for %s at height %d from peer", e, b.Hash(), b.Header.Height)
	}
	if n.Chain().Tip().Hash != a.Hash() {
		t.Fatal("the tie moved the tip: the first seen must stay")
	}
	if got := n.Stats().SideBlocks; got != 1 {
		t.Fatalf("Stats.SideBlocks = %d after one tying block, want 1", got)
	}
	n.acceptBlock("peer", c)
	for _, want := range []*chain.Block{b, c} {
		if e := next("the reorganisation's events"); e.Kind != EventBlock || e.Hash != want.Hash().String() || e.Status != "reorganized" {
			t.Fatalf("after B's child: %s %s %s, want block %s reorganized", e.Kind, e.Hash, e.Status, want.Hash())
		}
	}
}
