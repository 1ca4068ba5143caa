package chain

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pycotr/pycotr/internal/testkit"
)

// Keys are slow to make: testkit's 1024-bit ones (the smallest accepted
// size) are generated once per test binary and shared.
const testKeyCount = 8

var testAddrs = sync.OnceValue(func() []Address {
	as := make([]Address, testKeyCount)
	for i := range as {
		as[i] = AddressOf(&key(i).PublicKey)
	}
	return as
})

func key(i int) *rsa.PrivateKey { return testkit.Key(i) }
func addr(i int) Address        { return testAddrs()[i] }

// t0 is the test genesis time; the fake clock starts 30 days later.
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

const day = 24 * 60 * 60 * 1000

func testParams() Params {
	return Params{
		Network:         "test",
		Reward:          50,
		Bits:            4,
		MaxBlockTxs:     10,
		MaxBlockBytes:   16 << 10,
		MaxTxBytes:      2048,
		MaxFutureMillis: 2 * 60 * 60 * 1000,
		GenesisMessage:  "test genesis",
	}
}

type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) Now() time.Time { return time.UnixMilli(c.ms.Load()) }

// testGenesis builds and solves a genesis block for p.
func testGenesis(t testing.TB, p Params) *Block {
	b := &Block{Header: Header{Version: BlockVersion, MerkleRoot: sha256.Sum256([]byte(p.GenesisMessage)),
		Timestamp: t0, Bits: p.Bits}}
	solve(t, b)
	return b
}

func solve(t testing.TB, b *Block) {
	t.Helper()
	hdr, err := (&Miner{}).Solve(context.Background(), b.Header)
	if err != nil {
		t.Fatal(err)
	}
	b.Header = hdr
}

func remerkle(b *Block) { b.Header.MerkleRoot = b.ComputeMerkleRoot() }

type harness struct {
	t     testing.TB
	p     Params
	c     *Chain
	clock *fakeClock
	gen   *Block
}

// newHarness makes a chain with test parameters; mod may change the config
// (its Params included) before the chain is built.
func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	cfg := Config{Params: testParams()}
	if mod != nil {
		mod(&cfg)
	}
	clock := &fakeClock{}
	clock.ms.Store(t0 + 30*day)
	cfg.Now = clock.Now
	if cfg.Genesis == nil {
		cfg.Genesis = testGenesis(t, cfg.Params)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, p: cfg.Params, c: c, clock: clock, gen: cfg.Genesis}
}

func (h *harness) tipBlock() *Block {
	b, ok := h.c.BlockAt(h.c.Height())
	if !ok {
		h.t.Fatal("no tip block")
	}
	return b
}

// build makes a solved block on parent: a correct reward to miner, then
// txs, one second after the parent. mut, if set, edits the block before
// it is solved (call remerkle if it changes the transactions).
func (h *harness) build(parent *Block, miner Address, txs []Tx, mut func(*Block)) *Block {
	h.t.Helper()
	b := NewBlock(Header{Version: BlockVersion, Height: parent.Header.Height + 1, PrevHash: parent.Hash(),
		Timestamp: parent.Header.Timestamp + 1000, Bits: h.p.Bits}, miner, h.p.Reward, txs)
	if mut != nil {
		mut(b)
	}
	solve(h.t, b)
	return b
}

// mustProcess hands b to the chain as a requested block (as sync does):
// stored whatever its branch's work. The rules tests feed side branches
// block by block; the unrequested path has tests of its own.
func (h *harness) mustProcess(b *Block) Outcome {
	h.t.Helper()
	out, err := h.c.ProcessRequestedBlock(b)
	if err != nil {
		h.t.Fatalf("ProcessBlock: %v", err)
	}
	return out
}

// mine extends the best chain with a block paying key miner.
func (h *harness) mine(miner int, txs ...Tx) *Block {
	h.t.Helper()
	b := h.build(h.tipBlock(), addr(miner), txs, nil)
	out := h.mustProcess(b)
	if out.Status != StatusExtended {
		h.t.Fatalf("mine: status %v, want extended", out.Status)
	}
	return b
}

func (h *harness) accept(tx Tx) {
	h.t.Helper()
	if err := h.c.AcceptTx(&tx); err != nil {
		h.t.Fatalf("AcceptTx: %v", err)
	}
}

// received is tx as another node gets it: encoded and decoded, without
// the mark that lets CheckTxSanity skip verifying what this process signed.
func received(t testing.TB, tx Tx) Tx {
	t.Helper()
	data, err := json.Marshal(&tx)
	if err != nil {
		t.Fatal(err)
	}
	var got Tx
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func transfer(t testing.TB, from, to int, amount, fee int64) Tx {
	t.Helper()
	tx, err := NewTransfer(key(from), addr(to), amount, fee, "")
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func testCard(t testing.TB, expiry string) Card {
	t.Helper()
	c, err := NewCard(CardInput{Number: "4111 1111 1111 1111", Expiry: expiry, CVV: "123", Holder: "Ada Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mint(t testing.TB, who int, amount, fee int64) Tx {
	t.Helper()
	tx, err := NewMint(key(who), testCard(t, "2099-12"), amount, fee, "")
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// resign signs tx again with key k after an edit.
func resign(t testing.TB, tx *Tx, k int) {
	t.Helper()
	if err := tx.Sign(key(k)); err != nil {
		t.Fatal(err)
	}
}

// snapshot is the observable state a rejected input must not change.
type snapshot struct {
	tip     Tip
	ledger  *Ledger
	pending []string
	orphans int
	spend   []int64
}

func (h *harness) snap() snapshot {
	h.c.mu.RLock()
	l := &Ledger{balances: maps.Clone(h.c.ledger.balances), minted: h.c.ledger.minted, txs: make(map[string][]txRef)}
	for id, refs := range h.c.ledger.txs {
		l.txs[id] = slices.Clone(refs)
	}
	h.c.mu.RUnlock()
	s := snapshot{tip: h.c.Tip(), ledger: l, orphans: h.c.Orphans()}
	for _, tx := range h.c.Pending() {
		s.pending = append(s.pending, tx.ID)
	}
	for i := range testKeyCount {
		s.spend = append(s.spend, h.c.Spendable(addr(i)))
	}
	return s
}

func (h *harness) assertUnchanged(s snapshot) {
	h.t.Helper()
	now := h.snap()
	if now.tip.Hash != s.tip.Hash || now.tip.Height != s.tip.Height || now.tip.Work.Cmp(s.tip.Work) != 0 {
		h.t.Errorf("tip moved: %v@%d -> %v@%d", s.tip.Hash.Short(), s.tip.Height, now.tip.Hash.Short(), now.tip.Height)
	}
	if !now.ledger.Equal(s.ledger) {
		h.t.Errorf("ledger changed")
	}
	if !slices.Equal(now.pending, s.pending) {
		h.t.Errorf("mempool changed: %v -> %v", s.pending, now.pending)
	}
	if now.orphans != s.orphans {
		h.t.Errorf("orphans changed: %d -> %d", s.orphans, now.orphans)
	}
	if !slices.Equal(now.spend, s.spend) {
		h.t.Errorf("spendable changed: %v -> %v", s.spend, now.spend)
	}
	h.checkConsistent()
}

// checkConsistent asserts the ledger invariant, that an incremental ledger
// equals a replay from genesis, and that no sender's pending debits exceed
// its balance.
func (h *harness) checkConsistent() {
	h.t.Helper()
	if err := h.c.CheckInvariant(); err != nil {
		h.t.Fatal(err)
	}
	eq, err := h.c.RebuildLedger()
	if err != nil || !eq {
		h.t.Fatalf("RebuildLedger: equal=%v err=%v", eq, err)
	}
	h.c.mu.RLock()
	defer h.c.mu.RUnlock()
	for a, v := range h.c.ledger.balances {
		if v < 0 {
			h.t.Fatalf("negative balance %d for %s", v, short(string(a)))
		}
	}
	for a, d := range h.c.pool.pending {
		if d <= 0 || h.c.ledger.Balance(a) < d {
			h.t.Fatalf("pending debits %d of %s exceed balance %d", d, short(string(a)), h.c.ledger.Balance(a))
		}
	}
	var digest Hash
	for k, e := range h.c.pool.entries {
		id := k.id
		if _, ok := h.c.ledger.TxLocation(k.from, k.id); ok {
			h.t.Fatalf("pending tx %s is confirmed", k.id)
		}
		if e.hash != e.tx.Hash() {
			h.t.Fatalf("pending tx %s kept under a wrong hash", id)
		}
		digest = xorHash(digest, e.hash)
	}
	if digest != h.c.pool.digest {
		h.t.Fatal("pool digest is not the XOR of its entries' hashes")
	}
}
