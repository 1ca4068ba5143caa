package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"math"
	"math/big"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
)

// Fixtures and arithmetic shared by the phases.

// benchGenesis is a low-difficulty network with a large reward, so one
// block funds a wallet for thousands of transactions.
func benchGenesis(ctx context.Context, bits uint32) (*genesis.File, error) {
	p := chain.DefaultParams()
	p.Network = "pycotr-bench"
	p.Bits = bits
	p.Reward = 1_000_000_000_000
	p.GenesisMessage = "pycotr bench"
	return genesis.Generate(ctx, p, time.Now().Add(-time.Hour))
}

// genKeys makes n RSA keys of the given size on all cores.
func genKeys(n, bits int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, n)
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range keys {
		g.Go(func() (err error) {
			keys[i], err = rsa.GenerateKey(rand.Reader, bits)
			return err
		})
	}
	return keys, g.Wait()
}

// signTransfers pre-signs n transfers of 1 unit, sender i%len(keys) to
// the next key's address, fee 1 + i%5, on all cores.
func (b *runner) signTransfers(what string, keys []*rsa.PrivateKey, n int) ([]chain.Tx, error) {
	addrs := make([]chain.Address, len(keys))
	for i, k := range keys {
		addrs[i] = chain.AddressOf(&k.PublicKey)
	}
	txs := make([]chain.Tx, n)
	var done atomic.Int64
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range txs {
		g.Go(func() (err error) {
			k := i % len(keys)
			txs[i], err = chain.NewTransfer(keys[k], addrs[(k+1)%len(keys)], 1, int64(1+i%5), "")
			b.prog.tick("signing "+what, int(done.Add(1)), n)
			return err
		})
	}
	return txs, g.Wait()
}

// asReceived returns copies of txs as a node receives them, through the
// wire codec (events.Encode, events.Decode): a transaction signed in this
// process is not verified again by its chain, and the admission figure
// includes the verification.
func asReceived(txs []chain.Tx) ([]chain.Tx, error) {
	out := make([]chain.Tx, len(txs))
	for i := range txs {
		data, err := events.Encode(events.TxMessage{Tx: txs[i]})
		if err != nil {
			return nil, err
		}
		var m events.TxMessage
		if err := events.Decode(data, events.MaxTxMessage, &m); err != nil {
			return nil, err
		}
		out[i] = m.Tx
	}
	return out, nil
}

// fakeAddress is a syntactically valid RSA address of the given size whose
// key nobody holds: a random odd modulus. It can receive, never send; it
// lets the ledger phase make 100 000 accounts without 100 000 key
// generations.
func fakeAddress(bits int) chain.Address {
	buf := make([]byte, bits/8)
	_, _ = rand.Read(buf)
	buf[0] |= 0x80
	buf[len(buf)-1] |= 1
	return chain.AddressOf(&rsa.PublicKey{N: new(big.Int).SetBytes(buf), E: 65537})
}

// percentile of sorted durations, p in [0,1].
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
