package services

import (
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"testing"
	"time"

	"github.com/pycotr/pycotr/events"
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
	srv := startServer(t, events.ServerConfig{})
	cfg := testNodeConfig(t, 0, testGenesis(t, 8))
	cfg.Embedded = srv
	n := startNode(t, cfg)
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
