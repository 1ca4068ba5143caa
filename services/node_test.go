package services

import (
	"testing"
	"time"

	"github.com/pycotr/pycotr/events"
)

func TestTxReachesAllMempoolsAndBlocksAllTips(t *testing.T) {
	checkGoroutines(t)
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
		eventually(t, 5*time.Second, n.Name()+" has the tx pending", func() bool { return n.Chain().HasTx(tx.ID) })
	}
	nodes[1].StartMining()
	eventually(t, 10*time.Second, "a block confirms the tx everywhere", func() bool {
		for _, n := range nodes {
			if n.Chain().Balance(tx.To) != 100 {
				return false
			}
		}
		return true
	})
	nodes[1].StopMining()
	eventually(t, 5*time.Second, "all nodes share one tip", func() bool {
		tip := nodes[0].Chain().Tip().Hash
		return nodes[1].Chain().Tip().Hash == tip && nodes[2].Chain().Tip().Hash == tip
	})
	for _, n := range nodes {
		if err := n.Chain().CheckInvariant(); err != nil {
			t.Error(err)
		}
	}
}
