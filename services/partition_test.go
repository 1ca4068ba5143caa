package services

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// TestPartitionHealsOnMostWork: two halves of a network, each on its own
// embedded NATS server, mine apart; then the servers are routed together
// (events.Server.AddRoutes reloads the second server's configuration with a
// route to the first: a partition that heals). Every node ends on the
// chain with the most work, every transaction of a dropped block is back
// in every mempool (the nodes that reorganised relay them) or on the new
// chain, and every ledger checks out.
//
// Limit (chain's mempool rule, not changed here): a dropped transaction is
// returned only if it is valid against the new tip; one spending funds
// that only a dropped block created (a transfer paid by a card purchase in
// a dropped block) cannot return until that purchase is mined again. The
// transfer here spends funds from the shared history, so it returns.
func TestPartitionHealsOnMostWork(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	s1 := startServer(t, events.ServerConfig{Name: "s1", Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0"})
	s2 := startServer(t, events.ServerConfig{Name: "s2", Listen: "127.0.0.1:0", ClusterListen: "127.0.0.1:0"})
	half := func(i int, c *Config) {
		if i >= 2 {
			c.Embedded = s2
		}
	}
	var nodes []*Node
	for i := range 4 {
		nodes = append(nodes, startNodeAt(t, s1, g, i, half))
	}
	left, right := nodes[:2], nodes[2:]

	mineTo := func(n *Node, height uint64, half []*Node) {
		t.Helper()
		n.Miner().Start()
		testkit.Eventually(t, 10*time.Second, n.Name()+" mines", func() bool { return n.Chain().Height() >= height })
		n.Miner().Stop()
		testkit.Eventually(t, 5*time.Second, "half on one tip", func() bool { return sameTip(half...) })
	}
	// A shared history: block 1 holds a card purchase for kL. (Mined on the
	// left, handed to the right directly: the halves were one network.)
	kL, kR, kM := testKey(t, 5), testKey(t, 6), testKey(t, 7)
	mint := fund(t, left[0], kL, 100)
	testkit.Eventually(t, 5*time.Second, "left mint pending", func() bool { return left[1].Chain().HasTx(mint.ID) })
	mineTo(left[0], 1, left)
	b1, _ := left[0].Chain().BlockAt(1)
	for _, n := range right {
		if _, err := n.Chain().ProcessBlock(b1); err != nil {
			t.Fatal(err)
		}
	}
	// Left: a transfer and another card purchase, in blocks 2 to 4.
	transfer, err := chain.NewTransfer(kL, chain.AddressOf(&kR.PublicKey), 30, 2, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := left[1].SubmitTx(&transfer); err != nil {
		t.Fatal(err)
	}
	mint2 := fund(t, left[0], kM, 7)
	testkit.Eventually(t, 5*time.Second, "left txs pending", func() bool {
		return left[0].Chain().HasTx(transfer.ID) && left[1].Chain().HasTx(mint2.ID)
	})
	mineTo(left[0], 4, left)
	// Right: its own card purchase, in blocks 2 to 7: more work.
	rmint := fund(t, right[0], kR, 50)
	testkit.Eventually(t, 5*time.Second, "right mint pending", func() bool { return right[1].Chain().HasTx(rmint.ID) })
	mineTo(right[0], 7, right)
	if sameTip(left[0], right[0]) || left[0].Chain().Height() >= right[0].Chain().Height() {
		t.Fatal("the halves did not mine apart, right ahead")
	}
	if left[0].Chain().Balance(transfer.To) != 30 {
		t.Fatal("the transfer is not confirmed on the left")
	}
	dropped := left[0].Chain().Blocks(2, 100)
	rightTip := right[0].Chain().Tip()
	for _, n := range right {
		if n.Chain().HasTx(transfer.ID) || n.Chain().HasTx(mint2.ID) {
			t.Fatal("the partition leaked a transaction")
		}
	}

	if err := s2.AddRoutes(s1.RouteURL()); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 15*time.Second, "every node on the right's chain", func() bool {
		for _, n := range nodes {
			if n.Chain().Tip().Hash != rightTip.Hash && n.Chain().Tip().Work.Cmp(rightTip.Work) <= 0 {
				return false
			}
		}
		return sameTip(nodes...)
	})
	for _, n := range left {
		if n.Stats().Reorgs == 0 {
			t.Errorf("%s did not reorganise", n.Name())
		}
	}
	// Every transaction of the dropped blocks: pending everywhere or on the
	// new chain (rewards excepted: they belong to their block).
	testkit.Eventually(t, 5*time.Second, "dropped transactions back in every mempool", func() bool {
		for _, b := range dropped {
			for _, tx := range b.Txs[1:] {
				for _, n := range nodes {
					if !n.Chain().HasTx(tx.ID) {
						return false
					}
				}
			}
		}
		return true
	})
	checkLedgers(t, nodes...)

	// The returned transactions are still good: a right-side node mines
	// them.
	right[1].Miner().Start()
	testkit.Eventually(t, 10*time.Second, "the returned transfer confirmed everywhere", func() bool {
		for _, n := range nodes {
			if n.Chain().Balance(transfer.To) != 30+50 || n.Chain().Balance(mint2.To) != 7 {
				return false
			}
		}
		return true
	})
	right[1].Miner().Stop()
	testkit.Eventually(t, 5*time.Second, "one tip", func() bool { return sameTip(nodes...) })
	checkLedgers(t, nodes...)
}
