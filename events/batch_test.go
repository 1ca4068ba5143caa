package events

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

// PublishTxs sends many transactions in few messages, within the batch
// bounds, and the receiver hears each transaction once, in order.
func TestPublishTxsBatches(t *testing.T) {
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	recv := testBus(t, s, "recv")
	send := testBus(t, s, "send")

	// Count what crosses the wire, per subject, with a raw subscriber.
	raw := rawConn(t, s)
	msgs := make(chan *nats.Msg, 64)
	for _, subject := range []string{"pycotr.tx", "pycotr.txs"} {
		if _, err := raw.ChanSubscribe(subject, msgs); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Flush(); err != nil {
		t.Fatal(err)
	}

	got := make(chan string, 1024)
	if err := recv.Subscribe(Handlers{Tx: func(from string, tx *chain.Tx) { got <- tx.ID }}); err != nil {
		t.Fatal(err)
	}
	const n = MaxTxBatch + 44 // two messages by count
	txs := make([]*chain.Tx, n)
	for i := range txs {
		txs[i] = &chain.Tx{Type: chain.TxTransfer, ID: fmt.Sprintf("t%03d", i), From: "ab", To: "cd", Amount: 1, Signature: "00"}
	}
	if err := send.PublishTxs(txs); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		select {
		case id := <-got:
			if want := fmt.Sprintf("t%03d", i); id != want {
				t.Fatalf("transaction %d is %s, want %s", i, id, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("only %d of %d transactions delivered", i, n)
		}
	}
	var sizes []int
	for len(sizes) < 2 {
		select {
		case m := <-msgs:
			if m.Subject != "pycotr.txs" {
				t.Fatalf("a batch went out on %s", m.Subject)
			}
			var b TxBatchMessage
			if err := Decode(m.Data, MaxTxBatchMessage, &b); err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(b.Txs))
		case <-time.After(5 * time.Second):
			t.Fatalf("messages seen: %v, want 2", sizes)
		}
	}
	if sizes[0] != MaxTxBatch || sizes[1] != 44 {
		t.Errorf("batches of %v, want [%d 44]", sizes, MaxTxBatch)
	}

	// By bytes: transactions of ~6 KB make batches of under 512 KiB.
	big := make([]*chain.Tx, 200)
	for i := range big {
		big[i] = &chain.Tx{Type: chain.TxTransfer, ID: fmt.Sprintf("b%03d", i), From: "ab", To: "cd", Amount: 1, Signature: strings.Repeat("0", 6000)}
	}
	if err := send.PublishTxs(big); err != nil {
		t.Fatal(err)
	}
	total, batches := 0, 0
	for total < len(big) {
		select {
		case m := <-msgs:
			if len(m.Data) > MaxTxBatchMessage {
				t.Fatalf("a batch of %d bytes, over %d", len(m.Data), MaxTxBatchMessage)
			}
			var b TxBatchMessage
			if err := Decode(m.Data, MaxTxBatchMessage, &b); err != nil {
				t.Fatal(err)
			}
			total += len(b.Txs)
			batches++
		case <-time.After(5 * time.Second):
			t.Fatalf("%d of %d transactions seen", total, len(big))
		}
	}
	if batches < 3 {
		t.Errorf("%d batches for 1.2 MB of transactions", batches)
	}
	for range big {
		<-got
	}

	// None sends nothing; a lone transaction goes out as before, on
	// pycotr.tx (the next message seen).
	if err := send.PublishTxs(nil); err != nil {
		t.Fatal(err)
	}
	if err := send.PublishTxs(txs[:1]); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-msgs:
		if m.Subject != "pycotr.tx" {
			t.Errorf("a lone transaction went out on %s", m.Subject)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lone transaction not seen")
	}
}

// A batch over its bounds is dropped whole, before anything is handled.
func TestTxBatchBoundsDropped(t *testing.T) {
	s := startTestServer(t, ServerConfig{Listen: "127.0.0.1:0"})
	var drops dropLog
	recv := testBusDrops(t, s, "recv", &drops)
	got := make(chan string, 1024)
	if err := recv.Subscribe(Handlers{Tx: func(from string, tx *chain.Tx) { got <- tx.ID }}); err != nil {
		t.Fatal(err)
	}
	publish, h := rawPublisher(t, s), headers(HeaderVersion, ProtocolVersion, HeaderNode, "x")
	pub := func(data string) { t.Helper(); publish("pycotr.txs", h, data) }
	tx := `{"type":"transfer","id":"t","from":"ab","to":"cd","amount":1,"fee":0,"signature":"00"}`
	pub(`{"txs":[` + strings.TrimSuffix(strings.Repeat(tx+",", MaxTxBatch+1), ",") + `]}`) // one too many
	pub(`{"txs":[` + tx + `]` + strings.Repeat(" ", MaxTxBatchMessage) + `}`)              // too large
	pub(`{"txs":[` + tx + `],"tx":` + tx + `}`)                                            // unknown field
	pub(`{"txs":[` + strings.ReplaceAll(tx, `"id":"t"`, `"id":"ok"`) + `]}`)               // good
	select {
	case id := <-got:
		if id != "ok" {
			t.Fatalf("delivered %q, want only the good batch's transaction", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("good batch not delivered")
	}
	testkit.Eventually(t, 5*time.Second, "both oversized batches and the malformed one counted", func() bool {
		return drops.get(DropTooLarge) == 2 && drops.get(DropDecode) == 1
	})
	select {
	case id := <-got:
		t.Errorf("a dropped batch delivered %q", id)
	default:
	}
}
