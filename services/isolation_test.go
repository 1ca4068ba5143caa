package services

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

// TestIsolationForkAndHeal is the fork lab on a real three-node network:
// node-3 is cut off and mines its own branch, holding a plain transfer and
// one half of a double spend; node-1 mines the other half on a longer
// branch. During the cut node-3's tip differs from the others' and the
// peers see it leave. After the heal every node shares one tip, node-3
// reorganised (its reorg counter rose), the plain transfer is back in the
// pools or confirmed, and of the conflicting pair exactly one is confirmed
// and the other is gone everywhere: node-3's reorg event names it as
// conflicting with the winner.
func TestIsolationForkAndHeal(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	nodes := startNodes(t, srv, g, 3, nil)
	n1, n3 := nodes[0], nodes[2]
	testkit.Eventually(t, 5*time.Second, "every node sees two peers", func() bool {
		return n1.Peers().Len() == 2 && nodes[1].Peers().Len() == 2 && n3.Peers().Len() == 2
	})

	// A shared history: kA (the double spender) holds 100, kB 50.
	kA, kB := testKey(t, 5), testKey(t, 6)
	mintA, mintB := fund(t, n1, kA, 100), fund(t, n1, kB, 50)
	mineUntil(t, n1, func() bool { return n1.Chain().Balance(mintA.To) == 100 && n1.Chain().Balance(mintB.To) == 50 })
	testkit.Eventually(t, 5*time.Second, "one tip", func() bool { return sameTip(nodes...) })

	feed3, unsubscribe := n3.Subscribe(1 << 14)
	defer unsubscribe()
	reorgsBefore := n3.Stats().Reorgs

	// Cut node-3 off.
	if _, err := n3.Lab().Isolate(0); !errors.Is(err, ErrIsolationRange) {
		t.Fatalf("Isolate(0): %v, want ErrIsolationRange", err)
	}
	if _, err := n3.Lab().Isolate(MaxIsolation + time.Second); !errors.Is(err, ErrIsolationRange) {
		t.Fatalf("Isolate(max+1s): %v, want ErrIsolationRange", err)
	}
	until, err := n3.Lab().Isolate(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got := n3.Lab().IsolatedUntil(); !got.Equal(until) || time.Until(got) < 50*time.Second {
		t.Fatalf("IsolatedUntil %v, want %v", got, until)
	}
	waitEvent(t, feed3, 5*time.Second, "the isolated event", func(e Event) bool { return e.Kind == EventIsolated && e.Until.Equal(until) })
	testkit.Eventually(t, 5*time.Second, "node-1 sees node-3 leave, node-3 sees its peers leave", func() bool {
		return n1.Peers().Len() == 1 && n3.Peers().Len() == 0
	})

	// Each side of the cut gets one half of a double spend: 80 of kA's 100
	// to two different wallets. Node-3 also gets a plain transfer from kB.
	toX, toY, toZ := chaintest.Addr(3), chaintest.Addr(4), chaintest.Addr(7) // keys 0-2 mine; 8 keys wrap
	spendA := chaintest.Transfer(t, kA, toX, 80, 1)
	plain := chaintest.Transfer(t, kB, toZ, 20, 1)
	spendB := chaintest.Transfer(t, kA, toY, 80, 1)
	for _, tx := range []chain.Tx{spendA, plain} {
		if err := n3.SubmitTx(&tx); err != nil {
			t.Fatal(err)
		}
	}
	if err := n1.SubmitTx(&spendB); err != nil {
		t.Fatal(err)
	}
	forkBase := n1.Chain().Height()
	mineUntil(t, n3, func() bool { return confirmed(n3, spendA.ID) && confirmed(n3, plain.ID) })
	mineUntil(t, n1, func() bool { return confirmed(n1, spendB.ID) && n1.Chain().Height() >= n3.Chain().Height()+2 })
	testkit.Eventually(t, 5*time.Second, "node-2 follows node-1", func() bool { return sameTip(n1, nodes[1]) })
	if sameTip(n1, n3) || n3.Chain().Height() <= forkBase {
		t.Fatal("node-3 did not mine its own branch while cut off")
	}
	if n1.Chain().HasTx(spendA.ID) || n1.Chain().HasTx(plain.ID) || n3.Chain().HasTx(spendB.ID) {
		t.Fatal("a transaction crossed the cut")
	}

	// Heal: one tip, node-3 reorganised.
	if !n3.Lab().Heal() {
		t.Fatal("Heal reports node-3 was not isolated")
	}
	if n3.Lab().Heal() {
		t.Error("a second Heal reports an isolation")
	}
	if !n3.Lab().IsolatedUntil().IsZero() {
		t.Error("IsolatedUntil is set after the heal")
	}
	testkit.Eventually(t, 10*time.Second, "every node on one tip", func() bool { return sameTip(nodes...) })
	testkit.Eventually(t, 5*time.Second, "node-1 sees node-3 back", func() bool { return n1.Peers().Len() == 2 && n3.Peers().Len() == 2 })
	if n3.Stats().Reorgs <= reorgsBefore {
		t.Errorf("node-3's reorg counter did not rise: %d", n3.Stats().Reorgs)
	}
	e := waitEvent(t, feed3, 5*time.Second, "node-3's reorg", func(e Event) bool { return e.Kind == EventReorg })
	if e.DroppedMined < 1 || e.ForkHeight != forkBase || e.Depth < 1 {
		t.Errorf("reorg event: depth %d, dropped mined %d, fork height %d (want ≥1, ≥1, %d)", e.Depth, e.DroppedMined, e.ForkHeight, forkBase)
	}
	if !slices.Contains(e.Returned, plain.ID) || e.ReturnedCount != len(e.Returned) {
		t.Errorf("reorg event: returned %v (count %d), want the plain transfer %s", e.Returned, e.ReturnedCount, plain.ID)
	}
	if e.ConflictingCount != 1 || len(e.Conflicting) != 1 || e.Conflicting[0].ID != spendA.ID || e.Conflicting[0].With != spendB.ID {
		t.Errorf("reorg event: conflicting %+v, want %s conflicting with %s", e.Conflicting, spendA.ID, spendB.ID)
	}

	// The plain transfer is pending or confirmed on every node; of the
	// double spend, spendB is confirmed everywhere and spendA nowhere,
	// even after more blocks.
	testkit.Eventually(t, 5*time.Second, "the returned transfer on every node", func() bool {
		for _, n := range nodes {
			if !n.Chain().HasTx(plain.ID) {
				return false
			}
		}
		return true
	})
	mineUntil(t, n1, func() bool { return confirmed(n1, plain.ID) })
	testkit.Eventually(t, 5*time.Second, "one tip again", func() bool { return sameTip(nodes...) })
	for _, n := range nodes {
		if !confirmed(n, spendB.ID) || n.Chain().HasTx(spendA.ID) || !confirmed(n, plain.ID) {
			t.Errorf("%s: spendB confirmed %v, spendA known %v, plain confirmed %v; want true, false, true",
				n.Name(), confirmed(n, spendB.ID), n.Chain().HasTx(spendA.ID), confirmed(n, plain.ID))
		}
		if b := n.Chain().Balance(toY); b != 80 || n.Chain().Balance(toX) != 0 {
			t.Errorf("%s: balances Y %d X %d, want 80 and 0", n.Name(), b, n.Chain().Balance(toX))
		}
	}
	checkLedgers(t, nodes...)
}

// TestIsolationRejoinsByItself: the cut ends when its time is up, and
// Close stops a pending heal.
func TestIsolationRejoinsByItself(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	nodes := startNodes(t, srv, g, 2, nil)
	feed, unsubscribe := nodes[1].Subscribe(256)
	defer unsubscribe()
	if _, err := nodes[1].Lab().Isolate(300 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, feed, 5*time.Second, "healed by the timer", func(e Event) bool { return e.Kind == EventHealed })
	if !nodes[1].Lab().IsolatedUntil().IsZero() {
		t.Error("IsolatedUntil set after the timer healed")
	}
	if _, err := nodes[1].Lab().Isolate(time.Minute); err != nil {
		t.Fatal(err)
	}
	nodes[1].Close() // the timer goes with the node
	if _, err := nodes[1].Lab().Isolate(time.Minute); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Isolate after Close: %v, want ErrNotRunning", err)
	}
	if nodes[1].Lab().Heal() {
		t.Error("Heal after Close reports an isolation")
	}
}

// mineUntil runs n's miner until cond holds.
func mineUntil(t *testing.T, n *Node, cond func() bool) {
	t.Helper()
	n.Miner().Start()
	defer n.Miner().Stop()
	testkit.Eventually(t, 15*time.Second, n.Name()+" mines until the condition holds", cond)
}

func confirmed(n *Node, id string) bool {
	_, st, _ := n.Chain().FindTx(id)
	return st == chain.TxConfirmed
}
