package chain

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// checkBlockSanitySequential is CheckBlockSanity's transaction rules in
// the reference order: the cheap rules of every transaction in block
// order (the first failing transaction's first failing rule), then the
// signatures in block order.
func checkBlockSanitySequential(b *Block, p *Params) error {
	seen := make(map[txKey]struct{}, len(b.Txs))
	var fees int64
	for i := range b.Txs {
		tx := &b.Txs[i]
		if i > 0 && tx.Type == TxReward {
			return ErrExtraCoinbase
		}
		if _, dup := seen[keyOf(tx)]; dup {
			return fmt.Errorf("tx %s: %w", tx.ID, ErrDuplicateInBlock)
		}
		seen[keyOf(tx)] = struct{}{}
		if err := checkTxForm(tx, p, tx.Size()); err != nil {
			return fmt.Errorf("tx %s: %w", tx.ID, err)
		}
		if err := checkTxTime(tx, b.Header.Timestamp); err != nil {
			return err
		}
		if i > 0 {
			if fees > math.MaxInt64-p.Reward-tx.Fee {
				return fmt.Errorf("block fees: %w", ErrAmountOverflow)
			}
			fees += tx.Fee
		}
	}
	for i := range b.Txs {
		if err := CheckTxSanity(&b.Txs[i], p); err != nil {
			return err
		}
	}
	return nil
}

// TestParallelSigsKeepErrorOrder corrupts random transactions of a block
// in random ways and checks that CheckBlockSanity reports the error a
// check in order reports.
func TestParallelSigsKeepErrorOrder(t *testing.T) {
	p := testParams()
	p.MaxBlockTxs, p.MaxBlockBytes, p.Bits = 100, 1<<20, 0 // unsolved blocks
	var good []Tx
	for i := range 12 {
		if i%4 == 3 {
			good = append(good, mint(t, i%3, 10, 1))
		} else {
			good = append(good, transfer(t, i%3, (i+1)%3, 1, 1))
		}
	}
	expired := mint(t, 0, 10, 1)
	expired.Card = &Card{Masked: expired.Card.Masked, Expiry: "2001-01-31"}
	resign(t, &expired, 0)
	r := rand.New(rand.NewPCG(7, 8))
	kinds := []string{"sig", "dup", "form", "time", "coinbase"}
	seenErr := map[string]bool{}
	for round := range 300 {
		n := 2 + r.IntN(len(good)-1)
		txs := append([]Tx(nil), good[:n]...)
		for range 1 + r.IntN(3) {
			i := r.IntN(n)
			switch kind := kinds[r.IntN(len(kinds))]; kind {
			case "sig":
				txs[i].Amount++ // the signature no longer matches
			case "dup":
				if i > 0 {
					txs[i].ID = txs[r.IntN(i)].ID
				}
			case "form":
				txs[i].Fee = -1
			case "time":
				txs[i] = expired
			case "coinbase":
				txs[i] = NewReward(1, Hash{}, addr(1), 5)
			}
		}
		var fees int64
		for _, tx := range txs {
			fees += max(tx.Fee, 0)
		}
		b := &Block{Txs: append([]Tx{NewReward(1, Hash{}, addr(0), p.Reward+fees)}, txs...)}
		b.Header = Header{Version: BlockVersion, Height: 1, Timestamp: t0 + 30*day, Bits: 0}
		remerkle(b)
		want := checkBlockSanitySequential(b, &p)
		got := CheckBlockSanity(b, &p, t0+30*day)
		if want != nil && errors.Is(want, ErrBadReward) {
			continue
		}
		switch {
		case want == nil && got != nil && errors.Is(got, ErrBadReward):
			continue // the reference loop does not check the reward's amount
		case (want == nil) != (got == nil) || (want != nil && want.Error() != got.Error()):
			t.Fatalf("round %d: got %v, want %v", round, got, want)
		}
		if want != nil {
			seenErr[fmt.Sprint(errors.Unwrap(want))] = true
		}
	}
	if len(seenErr) < 4 {
		t.Errorf("only %d kinds of error met: %v", len(seenErr), seenErr)
	}
}

// BenchmarkCheckBlockSanity20 checks a block of 20 signed transfers (the
// sync benchmark's blocks), signatures in order and on all cores.
func BenchmarkCheckBlockSanity20(b *testing.B) {
	p := testParams()
	p.MaxBlockTxs, p.MaxBlockBytes, p.Bits = 100, 1<<20, 0 // unsolved blocks
	var txs []Tx
	for i := range 20 {
		txs = append(txs, transfer(b, i%3, (i+1)%3, 1, 0))
	}
	blk := &Block{Txs: append([]Tx{NewReward(1, Hash{}, addr(0), p.Reward)}, txs...)}
	blk.Header = Header{Version: BlockVersion, Height: 1, Timestamp: t0, Bits: 0}
	remerkle(blk)
	for _, mode := range []struct {
		name string
		min  int
	}{{"sequential", math.MaxInt}, {"parallel", 4}} {
		b.Run(mode.name, func(b *testing.B) {
			defer func(old int) { parallelSigsMin = old }(parallelSigsMin)
			parallelSigsMin = mode.min
			for b.Loop() {
				if err := CheckBlockSanity(blk, &p, t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
		})
	}
}

// TestSigCache: a transaction verified at admission is not verified again
// in a block, and a tampered copy (same id, same signature) is no hit.
func TestSigCache(t *testing.T) {
	h := newHarness(t, nil)
	h.mine(0)
	tx := transfer(t, 0, 1, 5, 1)
	h.accept(tx)
	if !h.c.sigs.has(tx.Hash()) {
		t.Fatal("an admitted transaction's signature is not remembered")
	}
	forged := tx
	forged.Amount = 6
	bad := h.build(h.tipBlock(), addr(2), []Tx{forged}, nil)
	if _, err := h.c.ProcessBlock(bad); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered copy of a verified transaction: %v, want %v", err, ErrBadSignature)
	}
	h.mine(2, tx)
	var s sigCache
	key := func(i int) Hash { return Hash{byte(i), byte(i >> 8), byte(i >> 16)} }
	for i := range sigCacheGeneration + 1 {
		s.add(key(i))
	}
	if !s.has(key(0)) || !s.has(key(sigCacheGeneration)) {
		t.Fatal("a full generation is dropped at once: want it kept as the old one")
	}
}

// BenchmarkBlockSigsCached checks a 20-transaction block whose
// transactions the chain already verified at admission (the usual case
// for a mined or relayed block), against one it never saw.
func BenchmarkBlockSigsCached(b *testing.B) {
	p := testParams()
	p.MaxBlockTxs, p.MaxBlockBytes, p.Bits = 100, 1<<20, 0 // unsolved blocks
	var txs []Tx
	for i := range 20 {
		txs = append(txs, transfer(b, i%3, (i+1)%3, 1, 0))
	}
	blk := &Block{Txs: append([]Tx{NewReward(1, Hash{}, addr(0), p.Reward)}, txs...)}
	blk.Header = Header{Version: BlockVersion, Height: 1, Timestamp: t0, Bits: 0}
	remerkle(blk)
	var cache sigCache
	for i := range blk.Txs {
		cache.add(blk.Txs[i].Hash())
	}
	for _, c := range []struct {
		name  string
		cache *sigCache
	}{{"unseen", nil}, {"admitted", &cache}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				leaves, _, err := checkBlockBody(blk, &p)
				if err == nil {
					err = verifyTxSigs(blk.Txs, leaves, c.cache)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
