package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// propagation: node 1 mines (pause 100 ms), the others listen; for each
// block, the time from node 1's own block event (solved and connected
// there) to the last other node's block event for it. Two runs: blocks
// with the reward only, then blocks full of transactions every node
// already holds (relayed before the blocks are mined).
func (b *runner) propagation(ctx context.Context) error {
	g, err := benchGenesis(ctx, 8)
	if err != nil {
		return err
	}
	g.Params.MaxBlockTxs = b.sz.propTxs + 1
	if g, err = genesis.Generate(ctx, g.Params, time.UnixMilli(g.Block.Header.Timestamp)); err != nil {
		return err
	}
	keys, err := genKeys(4, 2048)
	if err != nil {
		return err
	}
	cfgs := make([]services.Config, 3)
	cfgs[0].Miner = miner.Settings{Pause: 100 * time.Millisecond}
	net, err := startNet(ctx, g, cfgs, false)
	if err != nil {
		return err
	}
	defer net.Close()
	for _, k := range keys {
		if _, err := extend(ctx, net.chains(), chain.AddressOf(&k.PublicKey), nil); err != nil {
			return err
		}
	}
	txs, err := b.signTransfers("block txs", keys, b.sz.propTxBlocks*b.sz.propTxs)
	if err != nil {
		return err
	}
	nodes := net.cl.Nodes
	var mu sync.Mutex
	times := make([]map[string]time.Time, len(nodes))
	var mined []string
	var wg sync.WaitGroup
	var unsubs []func()
	for i, n := range nodes {
		times[i] = map[string]time.Time{}
		ch, unsub := n.Subscribe(1 << 16)
		unsubs = append(unsubs, unsub)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for e := range ch {
				if e.Kind != services.EventBlock {
					continue
				}
				now := time.Now()
				mu.Lock()
				times[i][e.Hash] = now
				if i == 0 && e.Source == n.ID() {
					mined = append(mined, e.Hash)
				}
				mu.Unlock()
			}
		}()
	}
	defer func() {
		for _, u := range unsubs {
			u()
		}
		wg.Wait()
	}()
	// run mines want blocks on node 1 and returns each one's delay.
	run := func(want int, name string) ([]time.Duration, int, error) {
		mu.Lock()
		first := len(mined)
		mu.Unlock()
		count := func() int { mu.Lock(); defer mu.Unlock(); return len(mined) - first }
		stopProf := b.profile("propagation-" + name)
		nodes[0].Miner().Start()
		ok := wait.For(ctx, time.Duration(want)*time.Second+30*time.Second, 10*time.Millisecond, func() bool {
			b.prog.tick(name+" blocks", count(), want)
			return count() >= want
		})
		nodes[0].Miner().Stop()
		stopProf()
		if !ok {
			return nil, 0, fmt.Errorf("node 1 mined %d of %d blocks", count(), want)
		}
		h := nodes[0].Chain().Height()
		wait.For(ctx, 10*time.Second, 5*time.Millisecond, func() bool {
			for _, n := range nodes[1:] {
				if n.Chain().Height() < h {
					return false
				}
			}
			return true
		})
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		var delays []time.Duration
		missing := 0
		for _, hash := range mined[first:] {
			t0 := times[0][hash]
			var worst time.Duration
			all := true
			for i := 1; i < len(nodes); i++ {
				t, ok := times[i][hash]
				if !ok {
					all = false
					break
				}
				worst = max(worst, t.Sub(t0))
			}
			if !all {
				missing++
				continue
			}
			delays = append(delays, worst)
		}
		if len(delays) == 0 {
			return nil, 0, fmt.Errorf("no block reached every node")
		}
		slices.Sort(delays)
		return delays, missing, nil
	}
	report := func(suffix, what string, delays []time.Duration, missing int) {
		note := fmt.Sprintf("%d blocks (%s), node 1 mining every 100 ms", len(delays), what)
		if missing > 0 {
			note += fmt.Sprintf("; %d never became every node's tip", missing)
		}
		b.fig("propagation", "p50"+suffix, ms(percentile(delays, 0.5)), "ms", note)
		b.goal("propagation", "p99"+suffix, ms(percentile(delays, 0.99)), "ms", 50, true, "")
		b.fig("propagation", "max"+suffix, ms(delays[len(delays)-1]), "ms", "")
	}
	delays, missing, err := run(b.sz.propBlocks, "empty")
	if err != nil {
		return err
	}
	report("", "reward only", delays, missing)

	// Relay the transactions to every mempool first, as in normal use.
	for i := range txs {
		if err := nodes[0].SubmitTx(&txs[i]); err != nil {
			return err
		}
	}
	if !wait.For(ctx, time.Minute, 5*time.Millisecond, func() bool {
		for _, c := range net.chains() {
			if n, _ := c.MempoolStats(); n < len(txs) {
				return false
			}
		}
		return true
	}) {
		return fmt.Errorf("transactions did not reach every mempool")
	}
	delays, missing, err = run(b.sz.propTxBlocks, "full")
	if err != nil {
		return err
	}
	report("_full", fmt.Sprintf("%d RSA-2048 transfers each", b.sz.propTxs), delays, missing)
	return nil
}
