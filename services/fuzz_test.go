package services

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// fuzzBase are valid messages for a fuzz node, the seeds' starting points.
type fuzzBase struct {
	block []byte // the next block, solved, as a block message
	tx    []byte // a valid transfer, as a tx message
	state []byte // a presence beat
}

// fuzzSetup starts one node for a whole fuzz run (closed at its end):
// mining off, a funded wallet, a pending transaction.
func fuzzSetup(f *testing.F) (*Node, fuzzBase) {
	g := testGenesis(f, 8)
	srv := startServer(f, events.ServerConfig{})
	cfg := testNodeConfig(f, 0, g)
	cfg.Embedded = srv
	n := startNode(f, cfg)
	k := testKey(f, 5)
	fund(f, n, k, 100)
	extend(f, n, 1)
	fund(f, n, testKey(f, 6), 3) // pending
	var base fuzzBase
	b := solveNext(f, n)
	base.block, _ = events.Encode(events.BlockMessage{Block: *b, Hash: b.Hash()})
	tx, err := chain.NewTransfer(k, n.Miner().Address(), 1, 0, "")
	if err != nil {
		f.Fatal(err)
	}
	base.tx, _ = events.Encode(events.TxMessage{Tx: tx})
	s := n.State()
	s.NodeID, s.Name = uuid.NewString(), "peer"
	base.state, _ = json.Marshal(s)
	return n, base
}

// FuzzNodeHandlers feeds arbitrary bytes to a live node's NATS handlers as
// a transaction, block or presence message (the first byte picks which),
// decoded exactly as the bus decodes them. Whatever the input: no panic,
// the ledger invariant holds, and the tip moves only by a block the chain
// accepted, the mempool only by a transaction it accepted.
func FuzzNodeHandlers(f *testing.F) {
	n, base := fuzzSetup(f)
	f.Add(byte(0), base.tx)
	f.Add(byte(1), base.block)
	f.Add(byte(2), base.state)
	f.Add(byte(0), []byte(`{"tx":{"type":"reward","id":"6f1c2c1e-3b7a-4c57-9b59-0e5f0b3f3a11","to":"ab","amount":10}}`))
	f.Add(byte(1), []byte(`{"block":{"header":{"height":1},"transactions":[]},"hash":"00"}`))
	f.Add(byte(2), []byte(`{"node_id":"x","work":"-5"}`))
	f.Add(byte(2), []byte(`{"node_id":"x","work":"99999999999999999999999999999999999999"}`))
	f.Fuzz(func(t *testing.T, kind byte, data []byte) {
		from := "fuzz-peer"
		tipBefore := n.Chain().Tip()
		countBefore, _ := n.Chain().MempoolStats()
		switch kind % 3 {
		case 0:
			var m events.TxMessage
			if events.Decode(data, events.MaxTxMessage, &m) != nil {
				return
			}
			n.onTx(from, &m.Tx)
		case 1:
			var m events.BlockMessage
			if events.Decode(data, events.MaxBlockMessage, &m) != nil || m.Block.Hash() != m.Hash {
				return
			}
			n.onBlock(from, &m.Block)
		case 2:
			var s events.NodeState
			if events.Decode(data, events.MaxPresenceMessage, &s) != nil {
				return
			}
			n.onPresence(s.NodeID, &s)
		}
		if err := n.Chain().CheckInvariant(); err != nil {
			t.Fatalf("ledger invariant: %v", err)
		}
		if tip := n.Chain().Tip(); tip.Hash != tipBefore.Hash {
			if kind%3 != 1 || tip.Work.Cmp(tipBefore.Work) <= 0 {
				t.Fatalf("tip moved from %s to %s without a better block", tipBefore.Hash.Short(), tip.Hash.Short())
			}
		}
		if count, _ := n.Chain().MempoolStats(); count > countBefore && kind%3 != 0 {
			t.Fatalf("mempool grew from %d to %d on a non-transaction message", countBefore, count)
		}
	})
}
