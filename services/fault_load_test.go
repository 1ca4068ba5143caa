package services

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"github.com/pycotr/pycotr/internal/testkit"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// loadResult is what a load run measured.
type loadResult struct {
	duration     time.Duration
	accepted     int
	refusedFull  int            // mempool-full: back-pressure, not accepted
	refusedOther map[string]int // anything else (should stay empty)
	maxMempool   int
	returned     int    // transactions reorgs gave back to the pools
	maxHeap      uint64 // HeapInuse above the start value, bytes
	chainBytes   int    // bytes of the transactions confirmed during the run
	drain        time.Duration
	blocks       uint64
}

// runLoad submits pre-signed transfers from many funded wallets to two
// mining nodes for dur, from many goroutines, as fast as they are taken;
// then drains the mempools and checks that nothing accepted was lost.
// The mempools are bounded small: their count must never pass the bound
// (plus what reorgs gave back: those were accepted before),
// the heap must stay bounded (by the mempools plus what the chain
// confirmed), and the goroutine count must return to its start value.
func runLoad(t *testing.T, dur time.Duration) loadResult {
	const (
		wallets    = 32
		submitters = 16
		mempoolMax = 1000
	)
	limits := chain.MempoolLimits{MaxTxs: mempoolMax, MaxBytes: 2 << 20}
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	nodes := startNodes(t, srv, g, 2, func(i int, c *Config) {
		c.Mempool = limits
		c.Miner.Pause = time.Duration(100*(i+1)) * time.Millisecond
	})

	// Funded wallets (1024-bit keys, made in parallel).
	keys := make([]*rsa.PrivateKey, wallets)
	var kg sync.WaitGroup
	for i := range keys {
		kg.Add(1)
		go func() {
			defer kg.Done()
			k, err := rsa.GenerateKey(rand.Reader, 1024)
			if err != nil {
				panic(err)
			}
			keys[i] = k
		}()
	}
	kg.Wait()
	addrs := make([]chain.Address, wallets)
	for i, k := range keys {
		addrs[i] = chain.AddressOf(&k.PublicKey)
		fund(t, nodes[i%2], k, 1_000_000_000)
	}
	nodes[0].Miner().Start()
	testkit.Eventually(t, 20*time.Second, "every wallet funded on both nodes", func() bool {
		for _, a := range addrs {
			for _, n := range nodes {
				if n.Chain().Balance(a) != 1_000_000_000 {
					return false
				}
			}
		}
		return true
	})
	nodes[1].Miner().Start()
	startHeight := nodes[0].Chain().Height()
	startBlocks := nodes[0].Stats().BlocksMined + nodes[1].Stats().BlocksMined

	// nats.go makes a connection's request-reply subscription (and its
	// goroutine) at its first request, once for the connection's life:
	// make it before the count starts.
	for i, n := range nodes {
		if _, err := n.bus.RequestInfo(context.Background(), nodes[1-i].ID()); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap0 := ms.HeapInuse
	goroutines0 := runtime.NumGoroutine()

	// Signers keep a buffer of pre-signed transfers full; the clock starts
	// once it is.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan chain.Tx, 8192)
	var signers sync.WaitGroup
	for s := range 2 {
		signers.Add(1)
		go func() {
			defer signers.Done()
			for i := s; ctx.Err() == nil; i += 2 {
				w := i % wallets
				tx, err := chain.NewTransfer(keys[w], addrs[(w+1)%wallets], 1, 1, "")
				if err != nil {
					panic(err)
				}
				select {
				case ready <- tx:
				case <-ctx.Done():
				}
			}
		}()
	}
	testkit.Eventually(t, 30*time.Second, "the pre-signed buffer full", func() bool { return len(ready) == cap(ready) })

	var (
		mu       sync.Mutex
		res      = loadResult{refusedOther: map[string]int{}}
		accepted []string
	)
	var maxMempool atomic.Int64
	var maxHeap atomic.Uint64
	// A reorg gives the dropped blocks' transactions back to the pool even
	// when it is full (an accepted transaction is never lost); count them:
	// they are the only way past the bound.
	var returned atomic.Int64
	var feeds sync.WaitGroup
	var unsubscribe []func()
	for _, n := range nodes {
		ch, unsub := n.Subscribe(1 << 16)
		unsubscribe = append(unsubscribe, unsub)
		feeds.Add(1)
		go func() {
			defer feeds.Done()
			for e := range ch {
				if e.Kind == EventReorg {
					returned.Add(int64(len(e.Returned)))
				}
			}
		}()
	}
	stopSampler := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, n := range nodes {
				if c, _ := n.Chain().MempoolStats(); int64(c) > maxMempool.Load() {
					maxMempool.Store(int64(c))
				}
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > heap0 && ms.HeapInuse-heap0 > maxHeap.Load() {
				maxHeap.Store(ms.HeapInuse - heap0)
			}
			select {
			case <-stopSampler:
				return
			case <-tick.C:
			}
		}
	}()

	start := time.Now()
	deadline := start.Add(dur)
	var subs sync.WaitGroup
	for s := range submitters {
		subs.Add(1)
		go func() {
			defer subs.Done()
			var mine []string
			full, other := 0, map[string]int{}
			for i := 0; time.Now().Before(deadline); i++ {
				tx := <-ready
				err := nodes[(s+i)%2].SubmitTx(&tx)
				switch {
				case err == nil:
					mine = append(mine, tx.ID)
				case errors.Is(err, chain.ErrMempoolFull):
					full++
				default:
					other[reason(err)]++
				}
			}
			mu.Lock()
			accepted = append(accepted, mine...)
			res.refusedFull += full
			for k, v := range other {
				res.refusedOther[k] += v
			}
			mu.Unlock()
		}()
	}
	subs.Wait()
	res.duration = time.Since(start)
	cancel()
	signers.Wait()

	// Drain: the miners go on until both mempools are empty and agree.
	drainStart := time.Now()
	testkit.Eventually(t, 60*time.Second, "both mempools drained, one tip", func() bool {
		c0, _ := nodes[0].Chain().MempoolStats()
		c1, _ := nodes[1].Chain().MempoolStats()
		return c0 == 0 && c1 == 0 && sameTip(nodes...)
	})
	res.drain = time.Since(drainStart)
	for _, n := range nodes {
		n.Miner().Stop()
	}
	testkit.Eventually(t, 5*time.Second, "one tip after mining stopped", func() bool { return sameTip(nodes...) })
	close(stopSampler)
	sampler.Wait()
	for _, unsub := range unsubscribe {
		unsub()
	}
	feeds.Wait()
	res.returned = int(returned.Load())

	res.accepted = len(accepted)
	res.maxMempool = int(maxMempool.Load())
	res.maxHeap = maxHeap.Load()
	res.blocks = nodes[0].Stats().BlocksMined + nodes[1].Stats().BlocksMined - startBlocks
	for _, b := range nodes[0].Chain().Blocks(startHeight+1, 1<<30) {
		for i := range b.Txs {
			res.chainBytes += b.Txs[i].Size()
		}
	}

	// Nothing accepted is lost.
	lost := 0
	for _, id := range accepted {
		for _, n := range nodes {
			if _, st, _ := n.Chain().FindTx(id); st != chain.TxConfirmed {
				if lost < 5 {
					t.Errorf("accepted %s not confirmed on %s", id, n.Name())
				}
				lost++
				break
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d accepted transactions lost", lost, len(accepted))
	}
	if res.accepted == 0 {
		t.Error("nothing accepted")
	}
	if len(res.refusedOther) > 0 {
		t.Errorf("refused for reasons other than back-pressure: %v", res.refusedOther)
	}
	if res.maxMempool > mempoolMax+res.returned {
		t.Errorf("mempool reached %d, bound %d + %d returned by reorgs", res.maxMempool, mempoolMax, res.returned)
	}
	// The heap holds the bounded mempools, the confirmed chain (the chain
	// is kept in memory, as the original did) and the transient garbage of
	// the run; bound it by a generous multiple of what is kept.
	if bound := uint64(256<<20) + 8*uint64(res.chainBytes); res.maxHeap > bound {
		t.Errorf("heap grew by %d MiB, bound %d MiB", res.maxHeap>>20, bound>>20)
	}
	checkLedgers(t, nodes...)

	// Goroutines back to their start value.
	gdeadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > goroutines0 && time.Now().Before(gdeadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines0 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d at the start of the load, %d after\n%s", goroutines0, n, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("load %s: %d accepted (%.0f tx/s), %d refused as mempool-full; mempool max %d (bound %d, %d returned by reorgs); heap +%d MiB max (chain +%d KiB); %d blocks; drained in %s",
		res.duration.Round(time.Millisecond), res.accepted, float64(res.accepted)/res.duration.Seconds(), res.refusedFull,
		res.maxMempool, mempoolMax, res.returned, res.maxHeap>>20, res.chainBytes>>10, res.blocks, res.drain.Round(time.Millisecond))
	return res
}

// TestFaultLoadShort is the default suite's load run (the soak build runs
// a minute: TestFaultLoadSoak).
func TestFaultLoadShort(t *testing.T) {
	testkit.CheckGoroutines(t)
	runLoad(t, 6*time.Second)
}
