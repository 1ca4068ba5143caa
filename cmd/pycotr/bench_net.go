package main

import (
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/httpapi"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// Phases that run a local network in this process: an embedded NATS
// server, nodes on it, their HTTP APIs on 127.0.0.1:0.

// Baselines from BASELINE.md.
const (
	originalIntake       = 23.8    // tx/s, each relayed over HTTP to 2 peers
	originalChainAt136   = 596_000 // bytes of /get_blockchain at height 136
	originalPeersPerSync = 2       // a miner downloads each peer's whole chain
)

// benchNet is a running local network.
type benchNet struct {
	cl    *services.Cluster
	urls  []string // HTTP base URLs, when served
	stops []func() // stop each HTTP server
}

func (n *benchNet) chains() []*chain.Chain {
	var cs []*chain.Chain
	for _, nd := range n.cl.Nodes {
		cs = append(cs, nd.Chain())
	}
	return cs
}

func (n *benchNet) Close() {
	for _, stop := range n.stops {
		stop()
	}
	n.cl.Close()
}

// startNet starts an embedded NATS server (listening on natsListen, ""
// for in-process only) and one node per config, with HTTP if withHTTP.
func startNet(ctx context.Context, g *genesis.File, natsListen string, cfgs []services.Config, withHTTP bool) (*benchNet, error) {
	keys, err := genKeys(len(cfgs), 1024)
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		cfgs[i].Genesis = g
		if cfgs[i].Name == "" {
			cfgs[i].Name = fmt.Sprintf("node-%d", i+1)
		}
		if cfgs[i].MinerKey == nil {
			cfgs[i].MinerKey = keys[i]
		}
	}
	cl, err := services.StartCluster(ctx, services.ClusterConfig{
		NATS: events.ServerConfig{Name: "pycotr-bench", Listen: natsListen}, Nodes: cfgs,
	})
	if err != nil {
		return nil, err
	}
	n := &benchNet{cl: cl}
	if !withHTTP {
		return n, nil
	}
	for _, nd := range cl.Nodes {
		url, stop, err := serveHTTP(ctx, nd)
		if err != nil {
			n.Close()
			return nil, err
		}
		n.urls = append(n.urls, url)
		n.stops = append(n.stops, stop)
	}
	return n, nil
}

// serveHTTP serves a node's HTTP API on 127.0.0.1:0 until stop.
func serveHTTP(ctx context.Context, n *services.Node) (url string, stop func(), err error) {
	hs := httpapi.NewServer(httpapi.ServerConfig{Addr: "127.0.0.1:0", ShutdownTimeout: time.Second,
		Handler: httpapi.New(httpapi.Config{Node: n, Chain: n.Chain(), Miner: n.Miner(), Peers: n.Peers()})})
	if err := hs.Listen(); err != nil {
		return "", nil, err
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Run(hctx) }()
	return "http://" + hs.Addr(), func() { cancel(); <-done }, nil
}

// lookupOverHTTP sends n GET /balance_for requests, one at a time, for
// the accounts next picks, and returns the median latency.
func lookupOverHTTP(ctx context.Context, url string, n int, next func() chain.Address) (time.Duration, error) {
	client := newBenchClient()
	defer client.Close()
	lat := make([]time.Duration, n)
	for i := range lat {
		body, err := json.Marshal(map[string]chain.Address{"wallet": next()})
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		status, msg, err := client.do(ctx, http.MethodGet, url+"/balance_for", body)
		lat[i] = time.Since(t0)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, statusError("GET /balance_for", status, msg)
		}
	}
	slices.Sort(lat)
	return percentile(lat, 0.5), nil
}

// postResult is one load run's outcome.
type postResult struct {
	rate     float64 // tx/s until every mempool held every tx
	p50, p99 time.Duration
	complete bool
	missing  int
}

// postAll POSTs the bodies with b.sz.clients concurrent clients, body i
// to urls[i%len(urls)]+path, and waits until every node's mempool holds
// want more transactions than before.
func (b *bench) postAll(ctx context.Context, net *benchNet, urls []string, path string, bodies [][]byte, wantStatus int) (postResult, error) {
	var base []int
	for _, c := range net.chains() {
		n, _ := c.MempoolStats()
		base = append(base, n)
	}
	lat := make([]time.Duration, len(bodies))
	var next, done atomic.Int64
	var ferr atomic.Value
	var wg sync.WaitGroup
	defer b.profile(strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"))()
	start := time.Now()
	for w := 0; w < b.sz.clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := newBenchClient()
			defer client.Close()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				status, msg, err := client.do(ctx, http.MethodPost, urls[i%len(urls)]+path, bodies[i])
				lat[i] = time.Since(t0)
				if err != nil {
					ferr.Store(err)
					return
				}
				if status != wantStatus {
					ferr.Store(statusError("POST "+path, status, msg))
					return
				}
				b.prog.tick("POST "+path, int(done.Add(1)), len(bodies))
			}
		}()
	}
	wg.Wait()
	if err, ok := ferr.Load().(error); ok {
		return postResult{}, err
	}
	missing := func() int {
		m := 0
		for i, c := range net.chains() {
			n, _ := c.MempoolStats()
			m += max(0, base[i]+len(bodies)-n)
		}
		return m
	}
	complete := waitFor(ctx, 2*time.Minute, time.Millisecond, func() bool { return missing() == 0 })
	el := time.Since(start)
	slices.Sort(lat)
	return postResult{rate: float64(len(bodies)) / el.Seconds(), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99),
		complete: complete, missing: missing()}, nil
}

// fundedNet starts three nodes, mining off, with HTTP, and funds each key
// with a block reward mined into every node's chain.
func (b *bench) fundedNet(ctx context.Context, keys []*rsa.PrivateKey) (*benchNet, error) {
	g, err := benchGenesis(ctx, 8)
	if err != nil {
		return nil, err
	}
	net, err := startNet(ctx, g, "", make([]services.Config, 3), true)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, err := extend(ctx, net.chains(), chain.AddressOf(&k.PublicKey), nil); err != nil {
			net.Close()
			return nil, err
		}
	}
	return net, nil
}

func dropNote(net *benchNet) string {
	var drops uint64
	for _, n := range net.cl.Nodes {
		for _, v := range n.Stats().NATSDrops {
			drops += v
		}
	}
	if drops == 0 {
		return ""
	}
	return fmt.Sprintf("; %d NATS messages dropped", drops)
}

func (b *bench) intake(ctx context.Context) error {
	keys, err := genKeys(b.sz.senders, 2048)
	if err != nil {
		return err
	}
	net, err := b.fundedNet(ctx, keys)
	if err != nil {
		return err
	}
	defer net.Close()
	txs, err := b.signTransfers("intake txs", keys, 2*b.sz.intakeTxs)
	if err != nil {
		return err
	}
	bodies := make([][]byte, len(txs))
	for i := range txs {
		if bodies[i], err = json.Marshal(&txs[i]); err != nil {
			return err
		}
	}
	n := b.sz.intakeTxs
	for _, v := range []struct {
		name string
		urls []string
	}{{"node1", net.urls[:1]}, {"spread", net.urls}} {
		r, err := b.postAll(ctx, net, v.urls, "/api/v1/txs", bodies[:n], http.StatusAccepted)
		if err != nil {
			return err
		}
		bodies = bodies[n:]
		note := fmt.Sprintf("%d RSA-2048 transfers from %d wallets, %d clients, until all 3 mempools hold them", n, len(keys), b.sz.clients)
		if !r.complete {
			note += fmt.Sprintf("; INCOMPLETE: %d missing", r.missing)
		}
		note += dropNote(net)
		b.goal("intake", "tx_per_s_"+v.name, r.rate, "tx/s", 5000, false, note)
		b.fig("intake", "latency_p50_"+v.name, ms(r.p50), "ms", "HTTP call")
		b.fig("intake", "latency_p99_"+v.name, ms(r.p99), "ms", "")
		if v.name == "node1" {
			b.fig("intake", "vs_original", r.rate/originalIntake, "×", "original 23.8 tx/s (p50 305 ms, p99 938 ms)")
		}
	}
	return nil
}

func (b *bench) compat(ctx context.Context) error {
	keys, err := genKeys(max(2, b.sz.senders/2), 2048)
	if err != nil {
		return err
	}
	// The reference, this machine's RSA-2048 signing rate on all cores, is
	// measured before the first round and after each one (the network
	// idle); a round's ratio is against the mean of the two measurements
	// around it, so that a drift of the machine's speed meanwhile counts on
	// both sides, and the figure is the median round.
	d := time.Duration(b.sz.powSeconds * float64(time.Second))
	ref, err := signRate(d/2, keys[0])
	if err != nil {
		return err
	}
	refs := []float64{ref}
	net, err := b.fundedNet(ctx, keys)
	if err != nil {
		return err
	}
	defer net.Close()
	bodies := make([][]byte, b.sz.compatTxs)
	for i := range bodies {
		k := keys[i%len(keys)]
		to := keys[(i+1)%len(keys)]
		bodies[i], err = json.Marshal(map[string]any{
			"from_address":     chain.AddressOf(&k.PublicKey),
			"to_address":       chain.AddressOf(&to.PublicKey),
			"from_private_key": chain.EncodePrivateKey(k),
			"amount":           1,
			"attached_fee":     i % 5,
		})
		if err != nil {
			return err
		}
	}
	type round struct {
		r          postResult
		ref, ratio float64 // ref: the mean of the measurements around it
	}
	var rounds []round
	for i := range b.sz.compatRounds {
		// The bodies carry no transaction_id: each POST is a new transfer.
		r, err := b.postAll(ctx, net, net.urls[:1], "/add_to_pending_transactions", bodies, http.StatusOK)
		if err != nil {
			return err
		}
		if ref, err = signRate(d/2, keys[0]); err != nil {
			return err
		}
		refs = append(refs, ref)
		mean := (refs[i] + refs[i+1]) / 2
		rounds = append(rounds, round{r, mean, r.rate / mean})
	}
	slices.SortFunc(rounds, func(x, y round) int { return cmp.Compare(x.ratio, y.ratio) })
	med := rounds[len(rounds)/2]
	note := fmt.Sprintf("%d × %d transfers signed by node 1 with the sent RSA-2048 key; the median round", len(rounds), len(bodies))
	var ratios []string
	for _, r := range rounds {
		ratios = append(ratios, fmt.Sprintf("%.3f", r.ratio))
		if !r.r.complete {
			note += fmt.Sprintf("; INCOMPLETE: %d missing", r.r.missing)
		}
	}
	var refText []string
	for _, r := range refs {
		refText = append(refText, fmt.Sprintf("%.0f", r))
	}
	b.fig("compat", "sign_rate_all_cores", med.ref, "sig/s", fmt.Sprintf("rsa.SignPKCS1v15, RSA-2048, %d goroutines, around the median round; all: %s (before the first round and after each)", runtime.GOMAXPROCS(0), strings.Join(refText, ", ")))
	b.fig("compat", "tx_per_s", med.r.rate, "tx/s", note+dropNote(net))
	b.goal("compat", "ratio_to_sign_rate", med.ratio, "×", 0.8, false, "rounds, sorted: "+strings.Join(ratios, ", "))
	b.fig("compat", "latency_p50", ms(med.r.p50), "ms", "HTTP call")
	b.fig("compat", "latency_p99", ms(med.r.p99), "ms", "")
	b.fig("compat", "vs_original", med.r.rate/originalIntake, "×", "original 23.8 tx/s")
	return nil
}

// propagation: node 1 mines (pause 100 ms), the others listen; for each
// block, the time from node 1's own block event (solved and connected
// there) to the last other node's block event for it. Two runs: blocks
// with the reward only, then blocks full of transactions every node
// already holds (relayed before the blocks are mined).
func (b *bench) propagation(ctx context.Context) error {
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
	net, err := startNet(ctx, g, "", cfgs, false)
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
		ok := waitFor(ctx, time.Duration(want)*time.Second+30*time.Second, 10*time.Millisecond, func() bool {
			b.prog.tick(name+" blocks", count(), want)
			return count() >= want
		})
		nodes[0].Miner().Stop()
		stopProf()
		if !ok {
			return nil, 0, fmt.Errorf("node 1 mined %d of %d blocks", count(), want)
		}
		h := nodes[0].Chain().Height()
		waitFor(ctx, 10*time.Second, 5*time.Millisecond, func() bool {
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
	if !waitFor(ctx, time.Minute, 5*time.Millisecond, func() bool {
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

// sync: a fresh node catches up a chain built directly on node A.
func (b *bench) sync(ctx context.Context) error {
	g, err := benchGenesis(ctx, 4)
	if err != nil {
		return err
	}
	senders, err := genKeys(4, 1024)
	if err != nil {
		return err
	}
	net, err := startNet(ctx, g, "", []services.Config{{GatherStall: 25 * time.Millisecond}}, false)
	if err != nil {
		return err
	}
	defer net.Close()
	chains := net.chains()
	var addrs []chain.Address
	for _, k := range senders {
		a := chain.AddressOf(&k.PublicKey)
		addrs = append(addrs, a)
		if _, err := extend(ctx, chains, a, nil); err != nil {
			return err
		}
	}
	blocks := b.sz.syncBlocks - len(senders)
	txs, err := b.signTransfers("sync txs", senders, blocks*b.sz.syncTxs)
	if err != nil {
		return err
	}
	var encoded int64
	for i := 0; i < blocks; i++ {
		blk, err := extend(ctx, chains, addrs[i%len(addrs)], txs[i*b.sz.syncTxs:(i+1)*b.sz.syncTxs])
		if err != nil {
			return err
		}
		encoded += int64(blk.Size())
		b.prog.tick("building blocks", i+1, blocks)
	}
	txs = nil
	target := chains[0].Height()
	keys, err := genKeys(1, 1024)
	if err != nil {
		return err
	}
	fresh, err := services.New(services.Config{Name: "fresh", MinerKey: keys[0], Genesis: g,
		Embedded: net.cl.Server, GatherStall: 25 * time.Millisecond})
	if err != nil {
		return err
	}
	stopProf := b.profile("sync")
	start := time.Now()
	if err := fresh.Start(ctx); err != nil {
		return err
	}
	defer fresh.Close()
	ok := waitFor(ctx, 10*time.Minute, 5*time.Millisecond, func() bool {
		h := fresh.Chain().Height()
		b.prog.tick("synced blocks", int(h), int(target))
		return h >= target
	})
	el := time.Since(start)
	stopProf()
	if !ok {
		return fmt.Errorf("fresh node at height %d of %d", fresh.Chain().Height(), target)
	}
	st := fresh.Stats()
	note := fmt.Sprintf("%d blocks × %d RSA-1024 transfers, from the fresh node's start (consensus stall 25 ms included)", target, b.sz.syncTxs)
	if r := st.SyncRedundant; r > 0 {
		note += fmt.Sprintf("; %d redundant blocks", r)
	}
	b.goal("sync", "blocks_per_s", float64(target)/el.Seconds(), "blocks/s", 2000, false, note)
	b.fig("sync", "tx_per_s", float64(target)*float64(b.sz.syncTxs)/el.Seconds(), "tx/s", "")
	b.fig("sync", "bytes", float64(st.SyncBytes), "B", fmt.Sprintf("Stats.SyncBytes, %d pages", st.SyncPages))
	b.fig("sync", "bytes_per_block", float64(st.SyncBytes)/float64(target), "B/block",
		fmt.Sprintf("JSON; Block.Size averages %.0f B", float64(encoded)/float64(blocks)))
	b.fig("sync", "mb_per_s", float64(st.SyncBytes)/el.Seconds()/1e6, "MB/s", "")
	return nil
}

// netcost: NATS bytes for one new block mined by node 1 at several chain
// heights, counted by a raw subscriber to '<prefix>.>' and '_INBOX.>'.
func (b *bench) netcost(ctx context.Context) error {
	g, err := benchGenesis(ctx, 6)
	if err != nil {
		return err
	}
	cfgs := make([]services.Config, 3)
	for i := range cfgs {
		// No periodic consensus round inside a window: it is a cost per
		// interval, not per block (the round after a mined block stays).
		cfgs[i].ConsensusInterval = time.Hour
		cfgs[i].GatherStall = 100 * time.Millisecond
	}
	cfgs[0].Miner = miner.Settings{Pause: 300 * time.Millisecond}
	net, err := startNet(ctx, g, "127.0.0.1:0", cfgs, false)
	if err != nil {
		return err
	}
	defer net.Close()
	counter, err := dialCounter(net.cl.Server.ClientURL(), events.DefaultPrefix)
	if err != nil {
		return err
	}
	defer counter.Close()
	nodes, chains := net.cl.Nodes, net.chains()
	filler := fakeAddress(1024)
	ch, unsub := nodes[0].Subscribe(1 << 12)
	defer unsub()
	var perBlock []float64
	last := b.sz.netHeights[len(b.sz.netHeights)-1]
	for _, h := range b.sz.netHeights {
		for chains[0].Height() < h-1 {
			if _, err := extend(ctx, chains, filler, nil); err != nil {
				return err
			}
			b.prog.tick("filler blocks", int(chains[0].Height()), int(last))
		}
		time.Sleep(300 * time.Millisecond) // let any presence-triggered sync settle
		counter.reset()
		start := time.Now()
		nodes[0].Miner().Start()
		var mined string
		timeout := time.After(30 * time.Second)
		for mined == "" {
			select {
			case e, ok := <-ch:
				if !ok {
					return fmt.Errorf("node 1's event feed closed")
				}
				if e.Kind == services.EventBlock && e.Source == nodes[0].ID() && e.Height == h {
					mined = e.Hash
				}
			case <-timeout:
				return fmt.Errorf("node 1 mined no block at height %d", h)
			}
		}
		nodes[0].Miner().Stop()
		if !waitFor(ctx, 10*time.Second, time.Millisecond, func() bool {
			return chains[1].Height() >= h && chains[2].Height() >= h
		}) {
			return fmt.Errorf("block %d did not reach every node", h)
		}
		time.Sleep(700 * time.Millisecond) // the consensus round after the block
		window := time.Since(start)
		by, msgs := counter.snapshot()
		var total int64
		var parts []string
		kinds := make([]string, 0, len(by))
		for k := range by {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			if k != "presence" {
				total += by[k]
			}
			parts = append(parts, fmt.Sprintf("%s %d B/%d", k, by[k], msgs[k]))
		}
		blk, _ := chains[0].BlockAt(h)
		enc, err := events.Encode(events.BlockMessage{Block: *blk, Hash: blk.Hash()})
		if err != nil {
			return err
		}
		perBlock = append(perBlock, float64(total))
		b.fig("netcost", fmt.Sprintf("bytes_at_height_%d", h), float64(total), "B",
			fmt.Sprintf("presence excluded; %s; block message %d B; %.1fs window", strings.Join(parts, ", "), len(enc), window.Seconds()))
	}
	lo, hi := slices.Min(perBlock), slices.Max(perBlock)
	b.goal("netcost", "flat_ratio", hi/lo, "× (max/min)", 1.10, true,
		fmt.Sprintf("heights %v", b.sz.netHeights))
	b.fig("netcost", "vs_original_at_136", float64(originalChainAt136*originalPeersPerSync)/perBlock[0], "×",
		fmt.Sprintf("original: 2 × 596 KB whole-chain downloads per block at height 136, ours at height %d", b.sz.netHeights[0]))
	return nil
}
