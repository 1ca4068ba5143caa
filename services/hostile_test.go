package services

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
)

// TestHostileInputIsDroppedAndCounted publishes, with a plain NATS
// connection, bad input on every subject a node listens to, and plays a
// fake node that lures the victim into syncing and then serves garbage.
// Everything is dropped and counted; the victim's tip, mempool and
// balances do not move; afterwards it still mines and relays.
func TestHostileInputIsDroppedAndCounted(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	nodes := startNodes(t, srv, g, 2, func(_ int, c *Config) { c.ConsensusInterval = 200 * time.Millisecond })
	v, h := nodes[0], nodes[1]

	// Some state: kF funded on chain, a mint pending.
	kF, kP := testKey(t, 5), testKey(t, 6)
	fund(t, h, kF, 100)
	h.Miner().Start()
	testkit.Eventually(t, 10*time.Second, "kF funded everywhere", func() bool {
		return v.Chain().Balance(chain.AddressOf(&kF.PublicKey)) == 100 && h.Chain().Balance(chain.AddressOf(&kF.PublicKey)) == 100
	})
	h.Miner().Stop()
	testkit.Eventually(t, 5*time.Second, "one tip", func() bool { return sameTip(v, h) })
	pending := fund(t, v, kP, 5)
	testkit.Eventually(t, 5*time.Second, "pending at h", func() bool { return h.Chain().HasTx(pending.ID) })

	type snapshot struct {
		tip      chain.Hash
		pending  []string
		balances map[chain.Address]int64
	}
	addrs := []chain.Address{chain.AddressOf(&kF.PublicKey), chain.AddressOf(&kP.PublicKey), v.Miner().Address(), h.Miner().Address()}
	snap := func() snapshot {
		s := snapshot{tip: v.Chain().Tip().Hash, balances: map[chain.Address]int64{}}
		for _, tx := range v.Chain().Pending() {
			s.pending = append(s.pending, tx.ID)
		}
		for _, a := range addrs {
			s.balances[a] = v.Chain().Balance(a)
		}
		return s
	}
	before := snap()

	nc := rawConn(t, srv)
	fakeID := newIdentity(t)
	fake := fakeID.ID()
	hdr := func(version, node string) nats.Header {
		h := nats.Header{}
		if version != "" {
			h.Set(events.HeaderVersion, version)
		}
		if node != "" {
			h.Set(events.HeaderNode, node)
		}
		return h
	}
	good := hdr(events.ProtocolVersion, fake)
	send := func(subject string, h nats.Header, data []byte) {
		t.Helper()
		if err := nc.PublishMsg(&nats.Msg{Subject: subject, Header: h, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	encode := func(v any) []byte {
		t.Helper()
		b, err := events.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Transactions.
	valid, err := chain.NewTransfer(kF, v.Miner().Address(), 1, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	forged := valid
	forged.ID = uuid.NewString() // signature no longer matches
	overspend, err := chain.NewTransfer(kF, v.Miner().Address(), 1_000_000, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	reward := chain.NewReward(999, chain.Hash{9}, h.Miner().Address(), 1_000)
	send("pycotr.tx", nil, encode(events.TxMessage{Tx: valid}))                                     // no headers
	send("pycotr.tx", hdr(events.ProtocolVersion, ""), encode(events.TxMessage{Tx: valid}))         // no node
	send("pycotr.tx", hdr("99", fake), encode(events.TxMessage{Tx: valid}))                         // wrong version
	send("pycotr.tx", hdr(events.ProtocolVersion, "x.*"), encode(events.TxMessage{Tx: valid}))      // bad node id
	send("pycotr.tx", hdr(events.ProtocolVersion, v.ID()), encode(events.TxMessage{Tx: valid}))     // spoofs v
	send("pycotr.tx", good, []byte(`{"tx":`))                                                       // malformed
	send("pycotr.tx", good, []byte(`{"tx":{"type":"transfer","amount":"lots"}}`))                   // wrong type
	send("pycotr.tx", good, []byte(`{"tx":{},"admin":true}`))                                       // unknown field
	send("pycotr.tx", good, append(encode(events.TxMessage{Tx: valid}), `{}`...))                   // trailing
	send("pycotr.tx", good, []byte(`{"tx":{"id":"`+strings.Repeat("a", events.MaxTxMessage)+`"}}`)) // oversized
	send("pycotr.tx", good, encode(events.TxMessage{Tx: forged}))
	send("pycotr.tx", good, encode(events.TxMessage{Tx: overspend}))
	send("pycotr.tx", good, encode(events.TxMessage{Tx: reward}))

	// Blocks.
	next := solveNext(t, v)
	badReward := *next
	badReward.Txs = slices.Clone(next.Txs)
	badReward.Txs[0].Amount += 1_000
	badReward.Header.MerkleRoot = badReward.ComputeMerkleRoot()
	chaintest.Solve(t, &badReward)
	badPoW := *next
	for chain.MeetsBits(badPoW.Hash(), badPoW.Header.Bits) {
		badPoW.Header.Nonce++
	}
	send("pycotr.block", good, encode(events.BlockMessage{Block: *next, Hash: badPoW.Hash()})) // hash mismatch
	send("pycotr.block", good, []byte(`{"block":{"header":{"height":"two"}}}`))
	send("pycotr.block", good, make([]byte, events.MaxBlockMessage+1))
	send("pycotr.block", good, encode(events.BlockMessage{Block: badReward, Hash: badReward.Hash()}))
	send("pycotr.block", good, encode(events.BlockMessage{Block: badPoW, Hash: badPoW.Hash()}))

	// Presence: signed by the sender, but not what a beat should be.
	beat := func(id *events.Identity, data []byte) {
		t.Helper()
		send("pycotr.presence", signedHeader(id, events.KindPresence, data), data)
	}
	state := v.State()
	state.NodeID, state.Work = fake, "12"
	beat(newIdentity(t), encode(state)) // id mismatch: signed by another node
	state.Work = "lots"
	beat(fakeID, encode(state))
	beat(fakeID, []byte(`[1,2,3]`))
	send("pycotr.presence", good, encode(state)) // unsigned

	// Requests to v's endpoints.
	if r, err := nc.Request("pycotr.node."+v.ID()+".blocks", []byte(`{"locator":7}`), 2*time.Second); err != nil || r.Header.Get("Nats-Service-Error-Code") != "400" {
		t.Errorf("garbage blocks request: %v %v", err, r)
	}
	if r, err := nc.RequestMsg(&nats.Msg{Subject: "pycotr.node." + v.ID() + ".info", Header: hdr("0", fake)}, 2*time.Second); err != nil || r.Header.Get("Nats-Service-Error-Code") != "400" {
		t.Errorf("wrong-version info request: %v %v", err, r)
	}

	// A fake node: it answers consensus gathers with garbage, announces more
	// work than anyone, and serves garbage, then invalid blocks, when asked
	// for blocks.
	var served atomic.Int32
	badPage := encode(events.BlocksReply{Blocks: []chain.Block{badPoW}, TipHeight: 99})
	if _, err := nc.Subscribe("pycotr.node."+fake+".blocks", func(m *nats.Msg) {
		data := []byte(`{"blocks":[{"header":{"nonce":-1}}]}`)
		if served.Add(1) > 1 {
			data = badPage
		}
		m.RespondMsg(&nats.Msg{Header: good, Data: data})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Subscribe("pycotr.consensus", func(m *nats.Msg) {
		m.RespondMsg(&nats.Msg{Header: good, Data: []byte(`{"node_id":`)})
	}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	state.Work, state.Tip = strings.Repeat("9", 60), chain.Hash{1}
	// A round that asks every node runs at start and on reconnect only
	// (consensus.go): the victim is asked for one, as a reconnect would,
	// so that the fake's garbage replies reach it.
	v.requestConsensus()
	testkit.Eventually(t, 10*time.Second, "the victim syncs from the fake twice", func() bool {
		beat(fakeID, encode(state)) // a beat per poll
		return served.Load() >= 2 && v.Stats().BlocksRejected["bad-pow"] >= 2
	})

	wantDrops := map[string]uint64{
		// The fake's garbage consensus replies are unsigned: bad-signature,
		// as is its unsigned beat. (Its garbage sync page is a decode drop
		// at whichever honest node asked first.)
		events.DropNoHeader: 2, events.DropVersion: 2, events.DropBadHeader: 2, events.DropDecode: 8,
		events.DropTooLarge: 2, "presence-mismatch": 1, "bad-presence": 1, events.DropBadSignature: 2,
	}
	wantTx := map[string]uint64{"bad-signature": 1, "insufficient-funds": 1, "reward-in-mempool": 1}
	wantBlocks := map[string]uint64{"bad-reward": 1, "bad-pow": 2}
	atLeast := func(got, want map[string]uint64) bool {
		for k, n := range want {
			if got[k] < n {
				return false
			}
		}
		return true
	}
	defer func() {
		if t.Failed() {
			t.Logf("drops %v; tx rejected %v; blocks rejected %v", v.Stats().NATSDrops, v.Stats().TxRejected, v.Stats().BlocksRejected)
		}
	}()
	testkit.Eventually(t, 5*time.Second, "every drop and rejection counted", func() bool {
		return atLeast(v.Stats().NATSDrops, wantDrops) && atLeast(v.Stats().TxRejected, wantTx) &&
			atLeast(v.Stats().BlocksRejected, wantBlocks)
	})
	t.Logf("drops %v; tx rejected %v; blocks rejected %v", v.Stats().NATSDrops, v.Stats().TxRejected, v.Stats().BlocksRejected)
	if n := v.Stats().NATSDrops[events.DropPanic]; n != 0 {
		t.Errorf("%d handler panics", n)
	}
	after := snap()
	// valid is a properly signed transaction: the hostile copies sent to
	// the victim are dropped for their headers, but the one sent in the
	// victim's name reached h, which took it (a transaction proves itself),
	// and the inventory exchange may bring it to the victim from there.
	after.pending = slices.DeleteFunc(after.pending, func(id string) bool { return id == valid.ID })
	if after.tip != before.tip || !slices.Equal(after.pending, before.pending) || !maps.Equal(after.balances, before.balances) {
		t.Errorf("state moved:\nbefore %+v\nafter  %+v", before, after)
	}
	checkLedgers(t, v, h)

	// Still healthy: it relays a transaction and mines a block the other
	// node adopts.
	tx, err := chain.NewTransfer(kF, h.Miner().Address(), 3, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SubmitTx(&tx); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "relayed to the victim", func() bool { return v.Chain().HasTx(tx.ID) })
	v.Miner().Start()
	testkit.Eventually(t, 10*time.Second, "the victim's block at h", func() bool {
		return v.Stats().BlocksMined > 0 && h.Chain().Balance(h.Miner().Address()) >= before.balances[h.Miner().Address()]+3 && sameTip(v, h)
	})
	v.Miner().Stop()
}
