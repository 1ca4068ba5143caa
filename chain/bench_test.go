package chain

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkPoWSolveParallel measures Miner.Solve with two workers.
func BenchmarkPoWSolveParallel(b *testing.B) {
	m := &Miner{Workers: 2}
	hdr := benchHeader()
	hdr.Bits = 16
	for b.Loop() {
		hdr.Height++ // a new puzzle each time
		if _, err := m.Solve(context.Background(), hdr); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(m.Hashes())/b.Elapsed().Seconds(), "hashes/s")
}

// BenchmarkTxVerify measures CheckTxSanity of a signed transfer as a node
// receives it (decoded, so its signature is verified): form, card-free,
// and one RSA-1024 verification (the sender's parsed key comes from the key
// cache after the first call).
func BenchmarkTxVerify(b *testing.B) {
	tx := received(b, transfer(b, 0, 1, 10, 1))
	p := testParams()
	for b.Loop() {
		if err := CheckTxSanity(&tx, &p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkConnectBlock measures ProcessBlock of a 100-transaction block
// (all transfers, each with its signature check) on a fresh chain where the
// senders are funded; blocks are built before the timer.
func BenchmarkConnectBlock(b *testing.B) {
	mod := func(c *Config) {
		c.Params.MaxBlockTxs = 200
		c.Params.MaxBlockBytes = 1 << 20
		c.Params.Reward = 1_000_000
	}
	h := newHarness(b, mod)
	fund := h.build(h.gen, addr(0), nil, nil)
	var txs []Tx
	for i := range 100 {
		txs = append(txs, transfer(b, 0, 1+i%(testKeyCount-1), 10+int64(i), 1))
	}
	blk := h.build(fund, addr(7), txs, nil)
	for b.Loop() {
		b.StopTimer()
		fresh := newHarness(b, func(c *Config) { mod(c); c.Genesis = h.gen })
		if _, err := fresh.c.ProcessBlock(fund); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := fresh.c.ProcessBlock(blk); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "blocks/s")
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "tx/s")
}

// fakeAddr is an address-length map key (no key behind it).
func fakeAddr(i int) Address { return Address(fmt.Sprintf("%0324x", i)) }

func ledgerWithAccounts(n int) *Ledger {
	l := NewLedger()
	for i := range n {
		l.balances[fakeAddr(i)] = 1000
		l.minted += 1000
	}
	return l
}

// BenchmarkBalance: a balance look-up is a map read, flat in the number of
// accounts.
func BenchmarkBalance(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("accounts=%dk", n/1000), func(b *testing.B) {
			h := newHarness(b, nil)
			h.c.ledger = ledgerWithAccounts(n)
			r := rand.New(rand.NewPCG(1, 1))
			as := make([]Address, 1024)
			for i := range as {
				as[i] = fakeAddr(r.IntN(n))
			}
			var i int
			for b.Loop() {
				if h.c.Balance(as[i&1023]) != 1000 {
					b.Fatal("balance")
				}
				i++
			}
		})
	}
}

// BenchmarkMempoolAdmission measures admitting an already verified
// transfer (funds check, limits, digest) with n funded accounts; signature
// cost is BenchmarkTxVerify's.
func BenchmarkMempoolAdmission(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("accounts=%dk", n/1000), func(b *testing.B) {
			l := ledgerWithAccounts(n)
			r := rand.New(rand.NewPCG(2, 2))
			txs := make([]Tx, 50_000)
			hashes := make([]Hash, len(txs))
			for i := range txs {
				txs[i] = Tx{Type: TxTransfer, ID: NewTxID(), From: fakeAddr(r.IntN(n)), To: fakeAddr(r.IntN(n)),
					Amount: 1, Fee: r.Int64N(10), Signature: fmt.Sprintf("%0256x", i)}
				hashes[i] = txs[i].Hash()
			}
			pool := newMempool(MempoolLimits{})
			var i int
			for b.Loop() {
				if i == len(txs) {
					b.StopTimer()
					pool, i = newMempool(MempoolLimits{}), 0
					b.StartTimer()
				}
				if err := pool.add(l, &txs[i], hashes[i]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
		})
	}
}
