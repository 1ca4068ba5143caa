package chain

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// Issue 14: each attack shown against the former rules, as a test. The
// memory tests send 10 000 hostile blocks of about 1 MiB and require the
// heap to stay within 32 MiB of where it started.

const hostileBlocks = 10_000

// heapMiB is the live heap after a collection, in MiB.
func heapMiB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// bigParams are a network of 1 MiB blocks at bits.
func bigParams(bits uint32) Params {
	p := testParams()
	p.Bits = bits
	p.MaxBlockTxs = 2000
	p.MaxBlockBytes = 1 << 20
	return p
}

// bigBody is about 1 MiB of distinct signed transfers (never funded: the
// blocks that carry it are refused before funds are looked at).
func bigBody(t testing.TB, p Params) []Tx {
	t.Helper()
	var txs []Tx
	size := HeaderSize + 200
	for size < p.MaxBlockBytes-2048 && len(txs) < p.MaxBlockTxs-1 {
		tx := transfer(t, len(txs)%testKeyCount, (len(txs)+1)%testKeyCount, 1, 0)
		txs = append(txs, received(t, tx))
		size += tx.Size()
	}
	return txs
}

// checkHeap fails when the heap grew by more than 32 MiB since before.
func checkHeap(t *testing.T, what string, before float64) {
	t.Helper()
	after := heapMiB()
	t.Logf("%s: heap %.1f MiB before, %.1f MiB after %d blocks (%+.1f MiB)", what, before, after, hostileBlocks, after-before)
	if after-before > 32 {
		t.Errorf("%s: the heap grew by %.1f MiB", what, after-before)
	}
}

// Free blocks: a block with bits below the network's minimum is refused
// by its header alone, whatever its parent: never held as an orphan, never
// stored, its signatures never checked.
func TestHostileLowBitsOrphans(t *testing.T) {
	p := bigParams(16)
	h := newHarness(t, func(c *Config) { c.Params = p })
	body := bigBody(t, p)
	b := NewBlock(Header{Version: BlockVersion, Height: 5, PrevHash: Hash{1}, Timestamp: h.gen.Header.Timestamp + 1000}, addr(0), p.Reward, body)
	if b.Size() < 1<<20-4096 {
		t.Fatalf("block of %d bytes, want about 1 MiB", b.Size())
	}
	before := heapMiB()
	for i := range hostileBlocks {
		v := *b
		v.Header.Nonce = uint64(i) // bits 0: every nonce "solves" it
		for _, process := range []func(*Block) (Outcome, error){h.c.ProcessBlock, h.c.ProcessRequestedBlock} {
			out, err := process(&v)
			if !errors.Is(err, ErrLowBits) || out.Status != 0 || len(out.Stored) != 0 {
				t.Fatalf("bits 0 orphan: %v %v", out.Status, err)
			}
		}
	}
	checkHeap(t, "bits-0 orphans", before)
	if h.c.Orphans() != 0 {
		t.Fatalf("%d orphans held", h.c.Orphans())
	}
	if n := h.c.sigs.bad.Len() + h.c.sigs.good.Len(); n != 0 {
		t.Fatalf("%d signatures looked at", n)
	}
}

// Orphans that meet the minimum difficulty are held in memory only,
// bounded in bytes as well as count, oldest evicted first; they reach
// Outcome.Stored (what a node persists) only when they connect.
func TestHostileOrphansBoundedInBytes(t *testing.T) {
	p := bigParams(4)
	const budget = 5 << 19 // 2.5 MiB
	h := newHarness(t, func(c *Config) { c.Params = p; c.MaxOrphanBytes = budget })
	body := bigBody(t, p)
	tmpl := NewBlock(Header{Version: BlockVersion, Height: 5, PrevHash: Hash{1},
		Timestamp: h.gen.Header.Timestamp + 1000, Bits: p.Bits}, addr(0), p.Reward, body)
	before := heapMiB()
	var first *Block
	const n = hostileBlocks / 10 // each costs its sender (and this test) a proof-of-work and a Size
	for i := range n {
		b := &Block{Header: tmpl.Header, Txs: tmpl.Txs}
		b.Header.Timestamp += int64(i)
		solve(t, b)
		if first == nil {
			first = b
		}
		out, err := h.c.ProcessRequestedBlock(b)
		if err != nil || out.Status != StatusOrphan || len(out.Stored) != 0 {
			t.Fatalf("orphan %d: %v %v, stored %d", i, out.Status, err, len(out.Stored))
		}
		if h.c.orphans.bytes > budget {
			t.Fatalf("orphans hold %d bytes, bound %d", h.c.orphans.bytes, budget)
		}
	}
	checkHeap(t, "orphans meeting the minimum", before)
	if n := h.c.sigs.bad.Len() + h.c.sigs.good.Len(); n != 0 {
		t.Fatalf("%d signatures looked at", n)
	}
	if h.c.HasBlock(first.Hash()) {
		t.Fatal("the oldest orphan was not evicted first")
	}
	if n := h.c.Orphans(); n != 2 {
		t.Fatalf("%d orphans of 1 MiB held under a 2.5 MiB bound, want 2", n)
	}
}

func TestOrphansPersistedOnlyWhenConnected(t *testing.T) {
	h := newHarness(t, nil)
	b1 := h.build(h.gen, addr(0), nil, nil)
	b2 := h.build(b1, addr(0), nil, nil)
	out, err := h.c.ProcessBlock(b2)
	if err != nil || out.Status != StatusOrphan || len(out.Stored) != 0 {
		t.Fatalf("orphan: %v %v, stored %d", out.Status, err, len(out.Stored))
	}
	out, err = h.c.ProcessBlock(b1)
	if err != nil || len(out.Stored) != 2 || out.Stored[0] != b1 || out.Stored[1] != b2 {
		t.Fatalf("parent: %v, stored %v", err, hashes(out.Stored))
	}
}

// Cheap side branches: an unrequested block whose branch has less work
// than the best chain is not stored, and costs no body check; requested
// (sync), it is.
func TestHostileLowWorkSideBranch(t *testing.T) {
	p := bigParams(8)
	h := newHarness(t, func(c *Config) { c.Params = p })
	for range 3 {
		h.mine(1)
	}
	body := bigBody(t, p)
	b := NewBlock(Header{Version: BlockVersion, Height: 1, PrevHash: h.gen.Hash(), Timestamp: h.gen.Header.Timestamp + 1000,
		Bits: p.Bits}, addr(0), p.Reward, body)
	before := heapMiB()
	tip := h.c.Tip()
	for i := range hostileBlocks {
		v := *b
		v.Header.Timestamp += int64(i)
		solve(t, &v)
		out, err := h.c.ProcessBlock(&v)
		if err != nil || out.Status != StatusIgnored || len(out.Stored) != 0 || h.c.HasBlock(v.Hash()) {
			t.Fatalf("block %d: %v %v", i, out.Status, err)
		}
	}
	checkHeap(t, "low-work side branch", before)
	if h.c.Tip().Hash != tip.Hash || len(h.c.index) != 4 {
		t.Fatalf("tree holds %d blocks", len(h.c.index))
	}
	// Requested, the same kind of block is stored (its signatures checked).
	side := h.build(h.gen, addr(2), nil, nil)
	if out := h.mustProcess(side); out.Status != StatusSideBranch || len(out.Stored) != 1 {
		t.Fatalf("requested side block: %v", out.Status)
	}
	// A tie is stored unrequested: first seen wins, the other stays.
	fork, _ := h.c.BlockAt(2)
	tie := h.build(fork, addr(3), nil, nil)
	if out, err := h.c.ProcessBlock(tie); err != nil || out.Status != StatusSideBranch {
		t.Fatalf("tie: %v %v", out.Status, err)
	}
}

// Side branches are bounded in bytes, least-work branch pruned first; the
// branch being fetched is never pruned, so a branch with more work is
// adopted however deep its fork.
func TestSideBranchesBoundedAndDeepSync(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxSideBytes = 1 })
	var main []*Block
	for range 6 {
		main = append(main, h.mine(1))
	}
	// Two short side branches: at height 2 and 5. With a bound of 1 byte,
	// storing the second prunes the first (less work).
	low := h.build(main[0], addr(2), nil, nil)
	h.mustProcess(low)
	high := h.build(main[3], addr(3), nil, nil)
	h.mustProcess(high)
	if h.c.HasBlock(low.Hash()) || !h.c.HasBlock(high.Hash()) {
		t.Fatalf("pruned the wrong branch: low kept %v, high kept %v", h.c.HasBlock(low.Hash()), h.c.HasBlock(high.Hash()))
	}
	// A branch from block 1 with more work than ours, fetched block by
	// block: each is kept while it has less work, and it becomes best.
	p := h.gen
	var branch []*Block
	for range 8 {
		b := h.build(p, addr(4), nil, nil)
		branch = append(branch, b)
		h.mustProcess(b)
		p = b
	}
	if h.c.Tip().Hash != p.Hash() || h.c.Height() != 8 {
		t.Fatalf("deep branch not adopted: tip at %d", h.c.Height())
	}
	h.checkConsistent()
	h.c.mu.RLock()
	side := h.c.treeBytes - h.c.mainBytes
	h.c.mu.RUnlock()
	if side > 0 && len(h.c.index) > 9+1 {
		t.Fatalf("%d side bytes kept over a bound of 1 (tree of %d)", side, len(h.c.index))
	}
}

// fakeKey is a public key with a modulus of bits bits: enough to make an
// address (nothing checks that the modulus is a product of two primes).
func fakeKey(bits, e int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.SetBit(n, 0, 1)
	n.SetBit(n, 7, 1)
	return &rsa.PublicKey{N: n, E: e}
}

// Expensive keys: keys are 1024–4096 bits with e = 65537, a consensus
// rule, for senders and recipients.
func TestKeyRule(t *testing.T) {
	for _, tc := range []struct {
		bits, e int
		want    error
	}{
		{1023, 65537, ErrWeakKey}, {1024, 65537, nil}, {4096, 65537, nil}, {4097, 65537, ErrBadKey},
		{13_800, 65537, ErrBadKey}, {2048, 3, ErrBadKey}, {2048, 1<<31 - 1, ErrBadKey},
	} {
		a := AddressOf(fakeKey(tc.bits, tc.e))
		if _, err := ParseAddress(a); !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
			t.Errorf("%d bits, e=%d: %v, want %v", tc.bits, tc.e, err, tc.want)
		}
	}
	// A transaction from or to such a key is refused by its form, before
	// any signature.
	h := newHarness(t, func(c *Config) { c.Params.MaxTxBytes = 8 << 10 })
	h.mine(0)
	huge := AddressOf(fakeKey(13_800, 65537))
	tx := Tx{Type: TxTransfer, ID: NewTxID(), From: huge, To: addr(0), Amount: 1, Signature: "00"}
	if err := h.c.AcceptTx(&tx); !errors.Is(err, ErrBadKey) {
		t.Fatalf("from a 13 800-bit key: %v", err)
	}
	to := transfer(t, 0, 1, 1, 0)
	to.To = huge
	resign(t, &to, 0)
	if err := h.c.AcceptTx(&to); !errors.Is(err, ErrBadKey) {
		t.Fatalf("to a 13 800-bit key: %v", err)
	}
}

// A replayed transaction with a bad signature costs a look-up: its
// failure is remembered by hash.
func TestReplayedBadSignatureIsALookup(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	tx := received(t, transfer(t, 0, 1, 5, 1))
	tx.Amount = 6 // the signature no longer matches
	err1 := h.c.AcceptTx(&tx)
	if !errors.Is(err1, ErrBadSignature) {
		t.Fatalf("first: %v", err1)
	}
	if _, ok := h.c.sigs.failed(tx.Hash()); !ok {
		t.Fatal("the failure is not remembered")
	}
	// The same transaction in a block fails at once too.
	b := h.build(h.tipBlock(), addr(2), []Tx{tx}, nil)
	if _, err := h.c.ProcessBlock(b); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("in a block: %v", err)
	}
	if err2 := h.c.AcceptTx(&tx); err2 == nil || err2.Error() != err1.Error() {
		t.Fatalf("replay: %v", err2)
	}
}

// Id squatting: a miner cannot give its reward a victim's id (it is
// derived from the block), and ids are unique per sender, so another
// sender using the victim's id neither blocks nor replaces the victim's
// transaction, and look-ups never show one under the other's id.
func TestNoIdSquatting(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	h.mine(1)
	victim := received(t, transfer(t, 0, 2, 5, 1))
	h.accept(victim)

	// The reward with the victim's id: refused.
	b := h.build(h.tipBlock(), addr(3), nil, func(b *Block) { b.Txs[0].ID = victim.ID; remerkle(b) })
	if _, err := h.c.ProcessBlock(b); !errors.Is(err, ErrBadRewardID) {
		t.Fatalf("reward with the victim's id: %v", err)
	}
	// Another sender's transaction with the victim's id: accepted, mined;
	// the victim's stays pending and can still be mined.
	squat, err := NewTransfer(key(1), addr(3), 1, 0, victim.ID)
	if err != nil {
		t.Fatal(err)
	}
	h.accept(squat)
	if _, st, _ := h.c.FindTx(victim.ID); st != TxAmbiguous {
		t.Fatalf("two senders' id: state %v, want ambiguous", st)
	}
	h.mine(3, squat)
	if got, st, _ := h.c.FindTxFrom(victim.From, victim.ID); st != TxPending || got.Hash() != victim.Hash() {
		t.Fatalf("victim: state %v", st)
	}
	if got, st, _ := h.c.FindTxFrom(squat.From, victim.ID); st != TxConfirmed || got.Hash() != squat.Hash() {
		t.Fatalf("squatter: state %v", st)
	}
	if _, st, _ := h.c.FindTx(victim.ID); st != TxAmbiguous {
		t.Fatalf("FindTx of a shared id: %v, want ambiguous", st)
	}
	h.mine(3, victim)
	if _, st, _ := h.c.FindTxFrom(victim.From, victim.ID); st != TxConfirmed {
		t.Fatalf("victim not mined: %v", st)
	}
	h.checkConsistent()

	// The same sender's id confirmed with other content: the pending one
	// can never be mined and leaves the pool (evicted), not "confirmed".
	pend := received(t, transfer(t, 0, 1, 2, 3))
	h.accept(pend)
	other, err := NewTransfer(key(0), addr(4), 1, 0, pend.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := h.mustProcess(h.build(h.tipBlock(), addr(3), []Tx{other}, nil))
	if len(out.Evicted) != 1 || out.Evicted[0].Hash() != pend.Hash() || h.c.HasTxFrom(pend.From, pend.ID) && len(h.c.Pending()) != 0 {
		t.Fatalf("evicted %v, pending %v", ids(out.Evicted), ids(h.c.Pending()))
	}
	if got, st, _ := h.c.FindTx(pend.ID); st != TxConfirmed || got.Hash() != other.Hash() {
		t.Fatalf("confirmed content: %v", st)
	}
}

// One rule for spending within a block: credits of transfers and mints
// earlier in the block count; the block's own reward does not.
func TestSpendingWithinABlock(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0) // key 0 holds 50
	// key 5 holds nothing; it mines a block spending its own reward.
	spendReward := transfer(t, 5, 1, 10, 0)
	b := h.build(h.tipBlock(), addr(5), []Tx{spendReward}, nil)
	if _, err := h.c.ProcessBlock(b); !errors.Is(err, ErrInsufficientFund) {
		t.Fatalf("spending the block's own reward: %v", err)
	}
	// An earlier transfer's credit is spendable later in the block.
	in := transfer(t, 0, 6, 20, 0)
	out := transfer(t, 6, 1, 15, 5)
	h.mine(2, in, out)
	if h.c.Balance(addr(6)) != 0 || h.c.Balance(addr(1)) != 15 {
		t.Fatalf("balances %d %d", h.c.Balance(addr(6)), h.c.Balance(addr(1)))
	}
	// The model of the randomised test agrees.
	g := &mblock{bal: map[Address]int64{}, ids: map[string]bool{}}
	if _, _, ok := modelApply(g, b); ok {
		t.Fatal("the model lets a miner spend its reward in its own block")
	}
}

// Floating point in consensus: the retarget rule is exact integer
// arithmetic. Just inside the dead band (E/A = 1.5 − 1/(2n)), a float64
// division rounds to 1.5 and log2 then leaves the band; the integers
// do not. Elsewhere the rule is round(log2(E/A)) clamped, as before.
func TestRetargetIntegerArithmetic(t *testing.T) {
	r := &RetargetParams{Every: 20, TargetBlockMillis: 3_000_000_000_000_000_000 - 1, MaxStepBits: 8, MinBits: 1, MaxBits: 64}
	if got := r.nextBits(20, 1, 2_000_000_000_000_000_000); got != 20 {
		t.Fatalf("E/A just under 1.5: bits %d, want 20 (inside the dead band)", got)
	}
	r.TargetBlockMillis = 3_000_000_000_000_000_000
	if got := r.nextBits(20, 1, 2_000_000_000_000_000_000); got != 21 {
		t.Fatalf("E/A = 1.5: bits %d, want 21", got)
	}
	floatStep := func(e, a float64) int {
		l := math.Log2(e / a)
		if math.Abs(l) < math.Log2(1.5) {
			return 0
		}
		return int(math.Round(l))
	}
	rng := rand.New(rand.NewPCG(14, 14))
	r = &RetargetParams{Every: 20, TargetBlockMillis: 1000, MaxStepBits: 8, MinBits: 0, MaxBits: 64}
	for range 100_000 {
		intervals := 1 + rng.Uint64N(80)
		actual := 1 + rng.Int64N(int64(intervals)*1000*300)
		want := max(-8, min(8, floatStep(float64(1000*intervals), float64(actual))))
		if got := int(r.nextBits(32, intervals, actual)) - 32; got != want {
			t.Fatalf("E=%d A=%d: step %d, float rule %d", 1000*intervals, actual, got, want)
		}
	}
}

// FIPS-only mode forks: a node refuses to start in it, with a clear error.
func TestFIPSOnlyRefused(t *testing.T) {
	if os.Getenv("PYCOTR_FIPS_CHILD") == "1" {
		_, err := New(Config{Params: testParams(), Genesis: testGenesis(t, testParams())})
		if !errors.Is(err, ErrFIPSOnly) {
			t.Fatalf("fips140=only: New = %v, want ErrFIPSOnly", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFIPSOnlyRefused$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PYCOTR_FIPS_CHILD=1", "GODEBUG=fips140=only")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child under fips140=only: %v\n%s", err, out)
	}
}

// replayCosts measures, per operation: one RSA-2048 signature check, and
// AcceptTx of a replayed bad transaction from a 13 800-bit key (the
// attack shown against the former rules: 37 ms a replay) and from a funded
// key with a bad signature.
func replayCosts(t testing.TB) (rsa2048, hugeKey, badSig testing.BenchmarkResult) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("pycotr")
	sig, err := SignBytes(k, msg)
	if err != nil {
		t.Fatal(err)
	}
	a := AddressOf(&k.PublicKey)
	rsa2048 = testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			if VerifyBytes(a, msg, sig) != nil {
				b.Fatal("no verify")
			}
		}
	})
	h := newHarness(t, func(c *Config) { c.Params.MaxTxBytes = 8 << 10 })
	h.mine(0)
	huge := Tx{Type: TxTransfer, ID: NewTxID(), From: AddressOf(fakeKey(13_800, 65537)), To: addr(1), Amount: 1,
		Signature: strings.Repeat("ab", 13_800/8)}
	hugeKey = testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			tx := huge
			if !errors.Is(h.c.AcceptTx(&tx), ErrBadKey) {
				b.Fatal("accepted")
			}
		}
	})
	bad := received(t, transfer(t, 0, 1, 5, 1))
	bad.Fee = 2
	badSig = testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			tx := bad
			if !errors.Is(h.c.AcceptTx(&tx), ErrBadSignature) {
				b.Fatal("accepted")
			}
		}
	})
	return
}

// Expensive keys, CPU: a replayed bad transaction costs no RSA check. A
// key over the bounds is refused by its size, before any check (no
// verdict is ever recorded for it); a bad signature is checked once, and
// its replays are answered from the verdict cache. What they cost is
// measured by BenchmarkReplayedBadTx, against one RSA-2048 check.
func TestReplayedBadTxCostsNoCheck(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Params.MaxTxBytes = 8 << 10 })
	h.mine(0)
	huge := Tx{Type: TxTransfer, ID: NewTxID(), From: AddressOf(fakeKey(13_800, 65537)), To: addr(1), Amount: 1,
		Signature: strings.Repeat("ab", 13_800/8)}
	for range 3 {
		tx := huge
		if err := h.c.AcceptTx(&tx); !errors.Is(err, ErrBadKey) {
			t.Fatalf("a 13 800-bit key: %v, want ErrBadKey", err)
		}
	}
	if _, checked := h.c.sigs.failed(huge.Hash()); checked {
		t.Error("the oversized key's signature was checked")
	}
	bad := received(t, transfer(t, 0, 1, 5, 1))
	bad.Fee = 2 // no longer what was signed
	first := bad
	if err := h.c.AcceptTx(&first); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("a bad signature: %v, want ErrBadSignature", err)
	}
	if _, checked := h.c.sigs.failed(bad.Hash()); !checked {
		t.Fatal("the bad signature's verdict was not kept")
	}
	// Its replays find the verdict: the verdict cache answers with the same
	// error, which the check itself would only give by running again.
	h.c.sigs.fail(bad.Hash(), fmt.Errorf("kept verdict: %w", ErrBadSignature))
	for range 3 {
		tx := bad
		err := h.c.AcceptTx(&tx)
		if !errors.Is(err, ErrBadSignature) || !strings.Contains(err.Error(), "kept verdict") {
			t.Fatalf("a replay: %v, want the kept verdict", err)
		}
	}
}

func BenchmarkReplayedBadTx(b *testing.B) {
	rsa2048, huge, bad := replayCosts(b)
	b.Logf("RSA-2048 check: %v; 13 800-bit key replay: %v; bad signature replay: %v", rsa2048, huge, bad)
}
