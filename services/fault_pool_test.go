package services

import (
	"errors"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

// poolsAgree reports whether every node has the same tip and every id is
// known to every node in the same state: pending everywhere, or confirmed
// on the common chain.
func poolsAgree(ids map[string]string, nodes ...*Node) bool {
	if !sameTip(nodes...) {
		return false
	}
	for id := range ids {
		_, first, _ := nodes[0].Chain().FindTx(id)
		if first == chain.TxUnknown {
			return false
		}
		for _, n := range nodes[1:] {
			if _, st, _ := n.Chain().FindTx(id); st != first {
				return false
			}
		}
	}
	return true
}

// TestFaultPoolsConvergeAfterPartition: the three-server cluster of
// TestFaultPartitionHealsOnThreeServerCluster, one node per server, with a
// deliberately small pool on n1 (16 transactions). During the partition,
// n2 accepts 20 transfers: n1 takes 16 relays and refuses 4 for lack of
// room (and refuses a client's submission with mempool-full). The island
// n3 accepts transfers of its own, mines some of them, keeps others
// pending. The majority mines past the island: once n1's block frees room,
// n1 takes the 4 it refused from n2's inventory (nobody announces them
// again). After the heal, every transaction any node accepted is pending
// on every node or confirmed on the common chain within 2 s, with nothing
// mined meanwhile: what travels is inventory, not blocks. Then everything
// is mined.
func TestFaultPoolsConvergeAfterPartition(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	cl := startIslandCluster(t)
	n1 := startNodeAt(t, cl.s1, g, 0, func(_ int, c *Config) { c.Mempool = chain.MempoolLimits{MaxTxs: 16} })
	n2 := startNodeAt(t, cl.s2, g, 1, nil)
	n3 := startNodeAt(t, nil, g, 2, func(_ int, c *Config) { c.NATSServers = []string{"nats://" + cl.addr3} })
	nodes := []*Node{n1, n2, n3}
	acc := watchAccepted(t, nodes...)
	testkit.Eventually(t, 10*time.Second, "every node sees two peers", func() bool {
		return len(n1.Peers().List()) == 2 && len(n2.Peers().List()) == 2 && len(n3.Peers().List()) == 2
	})
	wallets := []int{3, 4, 5, 6} // 3, 4 spend on the majority side, 5, 6 on the island
	for _, w := range wallets {
		fund(t, n2, testKey(t, w), 1000)
	}
	n2.Miner().Start()
	testkit.Eventually(t, 15*time.Second, "the purchases confirmed everywhere", func() bool {
		for _, w := range wallets {
			for _, n := range nodes {
				if n.Chain().Balance(chain.AddressOf(&testKey(t, w).PublicKey)) != 1000 {
					return false
				}
			}
		}
		return true
	})
	n2.Miner().Stop()
	testkit.Eventually(t, 5*time.Second, "one tip before the partition", func() bool { return sameTip(nodes...) })

	cl.cut(t)
	testkit.Eventually(t, 10*time.Second, "the island's node reconnected, alone", func() bool {
		return n3.natsConnected() && len(n3.Peers().List()) == 0 && len(n1.Peers().List()) == 1 && len(n2.Peers().List()) == 1
	})
	recipient := chain.AddressOf(&testKey(t, 7).PublicKey)
	transfer := func(n *Node, w int) chain.Tx {
		t.Helper()
		tx, err := chain.NewTransfer(testKey(t, w), recipient, 1, 1, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := n.SubmitTx(&tx); err != nil {
			t.Fatalf("%s refused %s: %v", n.Name(), tx.ID, err)
		}
		return tx
	}
	pending := func(n *Node) int { c, _ := n.Chain().MempoolStats(); return c }

	// The majority: 20 transfers through n2; n1's pool holds 16.
	var majority []chain.Tx
	for i := range 20 {
		majority = append(majority, transfer(n2, 3+i%2))
	}
	testkit.Eventually(t, 5*time.Second, "n1 full, 4 relays refused", func() bool {
		return pending(n1) == 16 && n1.Stats().TxRejected[chain.ErrMempoolFull.Code] >= 4
	})
	extra, _ := chain.NewTransfer(testKey(t, 3), recipient, 1, 5, "")
	if err := n1.SubmitTx(&extra); !errors.Is(err, chain.ErrMempoolFull) {
		t.Fatalf("a client's transaction into n1's full pool: %v, want mempool-full", err)
	}
	refusedRelays := n1.Stats().TxRejected[chain.ErrMempoolFull.Code] - 1

	// The island: 4 transfers mined in its own block, 2 more pending.
	for i := range 4 {
		transfer(n3, 5+i%2)
	}
	h3 := n3.Chain().Height()
	n3.Miner().Start()
	testkit.Eventually(t, 10*time.Second, "the island mines", func() bool { return n3.Chain().Height() > h3 })
	n3.Miner().Stop()
	for i := range 2 {
		transfer(n3, 5+i%2)
	}

	// The majority mines past the island; n1's freed room is filled from
	// n2's inventory: the refused relays come back.
	took := time.Now()
	n1.Miner().Start()
	testkit.Eventually(t, 10*time.Second, "the majority two blocks ahead", func() bool {
		return n1.Chain().Height() >= n3.Chain().Height()+2
	})
	n1.Miner().Stop()
	testkit.Eventually(t, 10*time.Second, "n1 holds every transfer n2 accepted", func() bool {
		for _, tx := range majority {
			if !n1.Chain().HasTx(tx.ID) {
				return false
			}
		}
		return sameTip(n1, n2)
	})
	refill := time.Since(took)
	if n1.Stats().TxAccepted["inventory"] == 0 && n1.Stats().TxAccepted["relay"] < 20 {
		t.Error("n1 got the refused relays from neither inventory nor relay")
	}
	for i := range 3 {
		transfer(n2, 3+i%2)
	}
	testkit.Eventually(t, 5*time.Second, "the majority's pools agree", func() bool {
		c1, d1 := n1.Chain().PoolDigest()
		c2, d2 := n2.Chain().PoolDigest()
		return c1 == c2 && d1 == d2 && c1 >= 3
	})
	if sameTip(n1, n3) || pending(n3) != 2 {
		t.Fatal("the island did not stay apart")
	}

	healed := time.Now()
	cl.heal(t)
	ids := acc.snapshot()
	testkit.Eventually(t, 10*time.Second, "every accepted transaction pending everywhere or confirmed on the common chain", func() bool {
		return poolsAgree(ids, nodes...)
	})
	converged := time.Since(healed)
	if converged > 2*time.Second {
		t.Errorf("pools converged %s after the heal, want ≤ 2 s", converged)
	}
	var rounds, bytes uint64
	for _, n := range nodes {
		rounds += n.Stats().InvRounds
		bytes += n.Stats().InvBytes
	}
	t.Logf("partition: n1 refused %d relays for room, took them back from n2's inventory %s after it started mining; "+
		"heal: %d accepted transactions pending everywhere or confirmed, %s after the heal (pools: %d pending each); "+
		"inventory: %d rounds, %d reply bytes, %d taken by n1 and %d by n3 through it",
		refusedRelays, refill.Round(time.Millisecond), len(ids), converged.Round(time.Millisecond), pending(n1),
		rounds, bytes, n1.Stats().TxAccepted["inventory"], n3.Stats().TxAccepted["inventory"])

	n2.Miner().Start()
	testkit.Eventually(t, 20*time.Second, "every accepted transaction confirmed everywhere", func() bool {
		return allConfirmed(ids, nodes...) && sameTip(nodes...)
	})
	n2.Miner().Stop()
	testkit.Eventually(t, 5*time.Second, "one tip", func() bool { return sameTip(nodes...) })
	checkLedgers(t, nodes...)
}
