package events

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

// TestTapRingAndSlowSubscriber: the tap keeps the newest messages, oldest
// first, and closes a subscriber that falls behind instead of blocking.
func TestTapRingAndSlowSubscriber(t *testing.T) {
	tap := NewTap(3)
	slow, _ := tap.Subscribe(1)
	fast, unsubscribe := tap.Subscribe(10)
	for i := range 5 {
		tap.record(TapMessage{Subject: "s", Size: i})
	}
	var sizes []int
	for _, m := range tap.Recent() {
		sizes = append(sizes, m.Size)
	}
	if len(sizes) != 3 || sizes[0] != 2 || sizes[2] != 4 {
		t.Fatalf("recent sizes %v, want [2 3 4]", sizes)
	}
	if m := <-slow; m.Size != 0 || m.Seq != 1 {
		t.Fatalf("slow subscriber first message %+v", m)
	}
	if _, open := <-slow; open {
		t.Fatal("the slow subscriber was not dropped")
	}
	for i := range 5 {
		if m := <-fast; m.Size != i {
			t.Fatalf("fast subscriber message %d: %+v", i, m)
		}
	}
	unsubscribe()
	unsubscribe() // twice is fine
	tap.Close()
	if _, open := <-func() <-chan TapMessage { ch, _ := tap.Subscribe(1); return ch }(); open {
		t.Fatal("a subscription after Close is open")
	}
}

func TestSubjectMatches(t *testing.T) {
	cases := []struct {
		filter, subject string
		want            bool
	}{
		{"", "pycotr.tx", true},
		{"pycotr.tx", "pycotr.tx", true},
		{"pycotr.tx", "pycotr.block", false},
		{"pycotr.>", "pycotr.node.x.blocks", true},
		{"pycotr.>", "pycotr", false},
		{"pycotr.*", "pycotr.block", true},
		{"pycotr.*", "pycotr.node.x.info", false},
		{"pycotr.node.*.blocks", "pycotr.node.abc.blocks", true},
		{"pycotr.node.*.blocks", "pycotr.node.abc.info", false},
		{"pycotr.block", "pycotr.block.extra", false},
	}
	for _, c := range cases {
		if got := SubjectMatches(c.filter, c.subject); got != c.want {
			t.Errorf("SubjectMatches(%q, %q) = %v, want %v", c.filter, c.subject, got, c.want)
		}
	}
}

// TestIsolatedBus: an isolated bus sends nothing, ignores what arrives
// (neither is a drop), fails its requests at once and does not answer
// consensus; the tap records all of it, marked isolated. Healed, it talks
// again.
func TestIsolatedBus(t *testing.T) {
	testkit.CheckGoroutines(t)
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	var drops dropLog
	tap := NewTap(64)
	id := testIdentity(t)
	cut, err := Connect(BusConfig{Embedded: s, Identity: id, Name: "cut", Tap: tap, OnDrop: drops.add})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cut.Close() })
	other := testBus(t, s, "other")

	got := make(chan string, 10)
	for _, b := range []*Bus{cut, other} {
		if err := b.Subscribe(Handlers{Tx: func(from string, tx *chain.Tx) { got <- from + "/" + tx.ID }}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cut.Serve(fakeResponder{NodeState{NodeID: id.ID(), Name: "cut"}}, nil); err != nil {
		t.Fatal(err)
	}
	cut.SetIsolated(true)
	if err := cut.PublishTx(&chain.Tx{Type: chain.TxTransfer, ID: "held-back", Amount: 5}); err != nil {
		t.Fatalf("an isolated publish is not an error: %v", err)
	}
	if err := other.PublishTx(&chain.Tx{Type: chain.TxTransfer, ID: "ignored"}); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "the ignored message tapped", func() bool {
		for _, m := range tap.Recent() {
			if m.Dir == TapIn && m.Isolated {
				return true
			}
		}
		return false
	})
	states, err := other.GatherStates(context.Background(), 100*time.Millisecond)
	if err != nil || len(states) != 0 {
		t.Fatalf("an isolated node answered consensus: %v %v", states, err)
	}
	if _, err := cut.GatherStates(context.Background(), time.Second); !errors.Is(err, ErrIsolated) {
		t.Fatalf("an isolated gather: %v, want ErrIsolated", err)
	}
	if _, _, err := cut.RequestBlocks(context.Background(), "other", BlocksRequest{}); !errors.Is(err, ErrIsolated) {
		t.Fatalf("an isolated request: %v, want ErrIsolated", err)
	}
	select {
	case g := <-got:
		t.Fatalf("a message crossed the cut: %s", g)
	default:
	}
	if n := len(drops.m); n != 0 {
		t.Errorf("isolation counted drops: %v", drops.m)
	}

	cut.SetIsolated(false)
	if err := cut.PublishTx(&chain.Tx{Type: chain.TxTransfer, ID: "healed", Amount: 7}); err != nil {
		t.Fatal(err)
	}
	if g := testkit.Receive(t, got, 5*time.Second, "the healed message", func(string) bool { return true }); g != id.ID()+"/healed" {
		t.Fatalf("after the heal received %q", g)
	}
	states, err = other.GatherStates(context.Background(), 200*time.Millisecond)
	if err != nil || len(states) != 1 {
		t.Fatalf("healed consensus: %v %v", states, err)
	}
	var lines []string
	for _, m := range tap.Recent() {
		lines = append(lines, m.Dir+" "+m.Subject+" "+m.Summary)
	}
	all := strings.Join(lines, "\n")
	for _, want := range []string{
		"out pycotr.tx held back (cut off): transfer held-bac amount 5",
		"in pycotr.tx ignored: this node is cut off",
		"out pycotr.tx transfer healed amount 7",
		"in pycotr.consensus consensus: every node, what is your tip?",
		"tip: cut at #0",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("tap lacks %q:\n%s", want, all)
		}
	}
}
