package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
)

// Phases that need no network: proof-of-work, ledger look-ups, memory.

// originalPoW is the original's proof-of-work rate with 10 transactions in
// the block (BASELINE.md).
const originalPoW = 800.0

// sha256Rate is this CPU's SHA-256 compression rate: sha256 of a 16 KiB
// buffer, repeatedly, on the given number of goroutines; bytes/s ÷ 64.
func sha256Rate(d time.Duration, workers int) float64 {
	var total atomic.Uint64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 16<<10)
			var n uint64
			for time.Since(start) < d {
				for range 16 {
					sha256.Sum256(buf)
				}
				n += 16
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	return float64(total.Load()) * float64(16<<10) / 64 / time.Since(start).Seconds()
}

// powRate runs chain.Miner on an unsolvable header for d: hashes/s.
func powRate(ctx context.Context, d time.Duration, workers int) float64 {
	m := chain.Miner{Workers: workers}
	hdr := chain.Header{Version: chain.BlockVersion, Height: 7, Timestamp: time.Now().UnixMilli(), Bits: 255}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	_, _ = m.Solve(ctx, hdr)
	return float64(m.Hashes()) / time.Since(start).Seconds()
}

func (b *runner) pow(ctx context.Context) error {
	d := time.Duration(b.sz.powSeconds * float64(time.Second))
	cores := runtime.GOMAXPROCS(0)
	defer b.profile("pow")()
	comp1 := sha256Rate(d, 1)
	one := powRate(ctx, d, 1)
	compN := sha256Rate(d, cores)
	all := powRate(ctx, d, -1)
	if err := ctx.Err(); err != nil {
		return err
	}
	b.fig("pow", "sha256_compressions_1core", comp1, "/s", "16 KiB buffers, bytes/s ÷ 64")
	b.fig("pow", "sha256_compressions_all", compN, "/s", fmt.Sprintf("%d goroutines", cores))
	b.fig("pow", "hashes_1core", one, "H/s", "chain.Miner Workers 1")
	b.fig("pow", "hashes_all", all, "H/s", "chain.Miner Workers -1")
	b.goal("pow", "ratio_1core_to_compression", one/comp1, "×", 0.5, false,
		"goal 0.75; a try skips the 6 rounds no nonce changes, and tries overlap in the CPU")
	b.goal("pow", "ratio_all_to_1core", all/one, "×", 0.9*float64(cores), false,
		fmt.Sprintf("near %d× with %d cores; compression itself scales %.2f×", cores, cores, compN/comp1))
	b.fig("pow", "vs_original", one/originalPoW, "×", "original ~800 H/s (10 txs in the block)")
	return nil
}

// signRate is RSA-2048 PKCS#1 v1.5 signatures per second on all cores.
func signRate(d time.Duration, k *rsa.PrivateKey) (float64, error) {
	digest := sha256.Sum256([]byte("pycotr bench"))
	return allCores(d, func() error {
		_, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:])
		return err
	})
}

// verifyRate is this machine's verification limit: RSA PKCS#1 v1.5
// verifications per second on all cores, through chain.VerifyBytes (the
// path every node's checks take, the kept modulus included), of one
// signature by a key of the given size.
func verifyRate(d time.Duration, bits int) (float64, error) {
	keys, err := genKeys(1, bits)
	if err != nil {
		return 0, err
	}
	tx, err := chain.NewTransfer(keys[0], chain.AddressOf(&keys[0].PublicKey), 1, 0, "") // only its signature matters here
	if err != nil {
		return 0, err
	}
	msg := tx.SigningBytes()
	verify := func() error { return chain.VerifyBytes(tx.From, msg, tx.Signature) }
	if err := verify(); err != nil { // the first use parses the key and keeps its modulus: not timed
		return 0, err
	}
	return allCores(d, verify)
}

// allCores runs op on every core for d and returns how many ran per second.
func allCores(d time.Duration, op func() error) (float64, error) {
	var total atomic.Uint64
	var g errgroup.Group
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for time.Since(start) < d {
				if err := op(); err != nil {
					return err
				}
				total.Add(1)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// ledger measures balance look-ups and mempool admission on a chain with
// a growing number of accounts (one per block: a reward to a new address).
func (b *runner) ledger(ctx context.Context) error {
	g, err := benchGenesis(ctx, 4)
	if err != nil {
		return err
	}
	senders, err := genKeys(3, 1024)
	if err != nil {
		return err
	}
	// A node (not started: no NATS) and its HTTP API, for the look-up as a
	// user makes it: GET /balance_for, as the original was measured.
	node, err := services.New(services.Config{Name: "bench-ledger", MinerKey: senders[2], Genesis: g})
	if err != nil {
		return err
	}
	defer node.Close()
	c := node.Chain()
	url, stop, err := serveHTTP(ctx, node)
	if err != nil {
		return err
	}
	defer stop()
	senders = senders[:2]
	var addrs []chain.Address
	for _, k := range senders {
		a := chain.AddressOf(&k.PublicKey)
		addrs = append(addrs, a)
		if _, err := extend(ctx, []*chain.Chain{c}, a, nil); err != nil {
			return err
		}
	}
	signed, err := b.signTransfers("admission txs", senders, b.sz.admitTxs*len(b.sz.ledgerAccounts))
	if err != nil {
		return err
	}
	txs, err := asReceived(signed)
	if err != nil {
		return err
	}
	var balNs, tableNs, hotNs, admitNs, httpUs []float64
	last := b.sz.ledgerAccounts[len(b.sz.ledgerAccounts)-1]
	for step, n := range b.sz.ledgerAccounts {
		for len(addrs) < n {
			a := fakeAddress(2048) // a wallet's size
			if _, err := extend(ctx, []*chain.Chain{c}, a, nil); err != nil {
				return err
			}
			addrs = append(addrs, a)
			b.prog.tick("accounts", len(addrs), last)
		}
		// Balance of a random account, its address in hand as an HTTP
		// request has it: each batch of addresses is copied fresh (not
		// timed), so the look-up, not the reading of this benchmark's own
		// table of addresses, is what is measured; the ledger's entries are
		// spread over the whole table, mostly out of cache.
		const lookups = 1 << 20
		const perBatch = 256
		var x uint32 = 2463534242
		next := func() chain.Address {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			return addrs[int(x)%len(addrs)]
		}
		var sink int64
		query := make([]chain.Address, perBatch)
		var el time.Duration
		for done := 0; done < lookups; done += perBatch {
			for j := range query {
				query[j] = chain.Address(strings.Clone(string(next())))
			}
			t0 := time.Now()
			for _, a := range query {
				sink += c.Balance(a)
			}
			el += time.Since(t0)
		}
		balNs = append(balNs, float64(el.Nanoseconds())/lookups)
		// The same, reading each address from this benchmark's table of
		// n addresses (tens of MB at 100 000): the memory it takes to read
		// the query itself grows with n.
		start := time.Now()
		for range lookups {
			sink += c.Balance(next())
		}
		tableNs = append(tableNs, float64(time.Since(start).Nanoseconds())/lookups)
		// The same look-up over 1 000 accounts that stay in cache: what is
		// left when the memory hierarchy is out of the picture.
		start = time.Now()
		for i := range lookups {
			sink += c.Balance(addrs[len(addrs)-1-i%1000])
		}
		hotNs = append(hotNs, float64(time.Since(start).Nanoseconds())/lookups)
		if sink <= 0 {
			return fmt.Errorf("balances sum to %d", sink)
		}
		// The same over HTTP: GET /balance_for with its JSON body, one
		// client, one request at a time; the median, as BASELINE has it.
		lat, err := lookupOverHTTP(ctx, url, perBatch*8, next)
		if err != nil {
			return err
		}
		httpUs = append(httpUs, float64(lat)/float64(time.Microsecond))
		// Mempool admission of pre-signed transfers (RSA-1024 verification
		// included: it is part of the cost, and flat by nature).
		batch := txs[step*b.sz.admitTxs : (step+1)*b.sz.admitTxs]
		start = time.Now()
		for i := range batch {
			if err := c.AcceptTx(&batch[i]); err != nil {
				return err
			}
		}
		admitNs = append(admitNs, float64(time.Since(start).Nanoseconds())/float64(len(batch)))
	}
	lo, hi := b.sz.ledgerAccounts[0], last
	b.fig("ledger", fmt.Sprintf("balance_http_%dk_accounts", lo/1000), httpUs[0], "µs", "GET /balance_for, random accounts, p50 of one client's requests")
	b.fig("ledger", fmt.Sprintf("balance_http_%dk_accounts", hi/1000), httpUs[len(httpUs)-1], "µs", "")
	b.goal("ledger", "balance_http_flat_ratio", httpUs[len(httpUs)-1]/httpUs[0], "×", 1.5, true,
		fmt.Sprintf("%dk → %dk accounts; original: 18 ms median at height 6 (a chain scan): %.0f× faster", lo/1000, hi/1000, 18e3/httpUs[len(httpUs)-1]))
	b.fig("ledger", fmt.Sprintf("balance_%dk_accounts", lo/1000), balNs[0], "ns/op", "chain.Balance, random accounts, address in hand (2048-bit)")
	b.fig("ledger", fmt.Sprintf("balance_%dk_accounts", hi/1000), balNs[len(balNs)-1], "ns/op", "")
	b.fig("ledger", "balance_ratio", balNs[len(balNs)-1]/balNs[0], "×", "one map read; what grows is its cache misses (BENCHMARKS.md)")
	b.fig("ledger", fmt.Sprintf("balance_table_%dk_accounts", lo/1000), tableNs[0], "ns/op", "each address read from the benchmark's table of all addresses")
	b.fig("ledger", fmt.Sprintf("balance_table_%dk_accounts", hi/1000), tableNs[len(tableNs)-1], "ns/op", "")
	b.fig("ledger", "balance_table_ratio", tableNs[len(tableNs)-1]/tableNs[0], "×", "the query's own cache misses included")
	b.fig("ledger", fmt.Sprintf("balance_hot_%dk_accounts", hi/1000), hotNs[len(hotNs)-1], "ns/op", "1 000 accounts in turn (in cache)")
	b.fig("ledger", "balance_hot_ratio", hotNs[len(hotNs)-1]/hotNs[0], "×", "")
	b.fig("ledger", fmt.Sprintf("admission_%dk_accounts", lo/1000), admitNs[0], "ns/op", "chain.AcceptTx, RSA-1024 verify included")
	b.fig("ledger", fmt.Sprintf("admission_%dk_accounts", hi/1000), admitNs[len(admitNs)-1], "ns/op", "")
	b.goal("ledger", "admission_flat_ratio", admitNs[len(admitNs)-1]/admitNs[0], "×", 1.5, true, "")
	return nil
}

// memory measures a node holding many blocks with few transactions (a
// reward each, to three miners in turn).
func (b *runner) memory(ctx context.Context) error {
	g, err := benchGenesis(ctx, 2)
	if err != nil {
		return err
	}
	keys, err := genKeys(1, 1024)
	if err != nil {
		return err
	}
	miners := []chain.Address{fakeAddress(1024), fakeAddress(1024), fakeAddress(1024)}
	rss0, heap0 := memNow()
	n, err := services.New(services.Config{Name: "bench-memory", MinerKey: keys[0], Genesis: g})
	if err != nil {
		return err
	}
	defer n.Close()
	c := n.Chain()
	var encoded int64
	defer b.profile("memory")()
	for i := 0; i < b.sz.memoryBlocks; i++ {
		blk, err := extend(ctx, []*chain.Chain{c}, miners[i%3], nil)
		if err != nil {
			return err
		}
		encoded += int64(blk.Size())
		b.prog.tick("blocks", i+1, b.sz.memoryBlocks)
	}
	rss1, heap1 := memNow()
	blocks := float64(b.sz.memoryBlocks)
	b.fig("memory", "vmrss", float64(rss1)/(1<<20), "MiB", fmt.Sprintf("whole process, node holding %d blocks", b.sz.memoryBlocks))
	b.fig("memory", "vmrss_delta_per_block", float64(max(rss1-rss0, 1))/blocks, "B/block", "VmRSS after − before building")
	b.fig("memory", "heapinuse_delta_per_block", float64(max(heap1-heap0, 1))/blocks, "B/block", "runtime.MemStats.HeapInuse, after GC")
	b.fig("memory", "heap_to_block_size", float64(max(heap1-heap0, 1))/float64(encoded), "×",
		fmt.Sprintf("blocks average %.0f B (Block.Size)", float64(encoded)/blocks))
	runtime.KeepAlive(n)
	return nil
}

// memNow returns VmRSS and HeapInuse in bytes after a full collection.
func memNow() (rss, heap int64) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap = int64(ms.HeapInuse)
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				rss = kb << 10
			}
		}
	}
	return rss, heap
}
