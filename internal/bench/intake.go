package bench

import (
	"cmp"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// originalIntake is the original's intake (BASELINE.md): tx/s, each
// relayed over HTTP to 2 peers.
const originalIntake = 23.8

// intakeBatch is the transactions of one request in the batch variant.
const intakeBatch = 64

func (b *runner) intake(ctx context.Context) error {
	keys, err := genKeys(b.sz.senders, 2048)
	if err != nil {
		return err
	}
	net, err := b.fundedNet(ctx, keys, "")
	if err != nil {
		return err
	}
	defer net.Close()
	txs, err := b.signTransfers("intake txs", keys, 5*b.sz.intakeTxs)
	if err != nil {
		return err
	}
	bodies := make([][]byte, len(txs))
	for i := range txs {
		if bodies[i], err = json.Marshal(&txs[i]); err != nil {
			return err
		}
	}
	// The limit the rate is read against: every transaction is verified
	// once by each of the 3 nodes, on these same cores. The machine's
	// speed drifts (and other work may share it), so node 1's intake is
	// measured in rounds, each between two measurements of the
	// verification rate and read against their mean: one transaction a
	// request, then intakeBatch a request (POST /api/v1/txs's batch form),
	// each on a fresh network. The figures are the median rounds.
	n := b.sz.intakeTxs
	verifyFor := time.Duration(b.sz.powSeconds*float64(time.Second)) / 2
	verifies, err := verifyRate(verifyFor, 2048)
	if err != nil {
		return err
	}
	type round struct {
		r      postResult
		limit  float64 // verifications/s on all cores ÷ nodes, around the round
		verify [2]float64
		note   string
	}
	var single, batched []round
	run := func(rnet *network, batch int) (postResult, string, error) {
		if rnet == nil {
			if rnet, err = b.fundedNet(ctx, keys, ""); err != nil {
				return postResult{}, "", err
			}
			defer rnet.Close()
		}
		want := http.StatusAccepted
		if batch > 1 {
			want = http.StatusOK
		}
		r, err := b.postBatches(ctx, rnet, rnet.urls[:1], "/api/v1/txs", bodies[:n], batch, want)
		return r, dropNote(rnet), err
	}
	for i := range b.sz.intakeRounds {
		first := net // the phase's network serves the first round
		if i > 0 {
			first = nil
		}
		r, note, err := run(first, 1)
		if err != nil {
			return err
		}
		rb, noteb, err := run(nil, intakeBatch)
		if err != nil {
			return err
		}
		after, err := verifyRate(verifyFor, 2048)
		if err != nil {
			return err
		}
		limit := (verifies + after) / 2 / float64(len(net.urls))
		single = append(single, round{r: r, limit: limit, verify: [2]float64{verifies, after}, note: note})
		batched = append(batched, round{r: rb, limit: limit, verify: [2]float64{verifies, after}, note: noteb})
		verifies = after
	}
	median := func(rounds []round) (round, string) {
		ratio := func(r round) float64 { return r.r.rate / r.limit }
		slices.SortFunc(rounds, func(x, y round) int { return cmp.Compare(ratio(x), ratio(y)) })
		var ratios []string
		for _, r := range rounds {
			ratios = append(ratios, fmt.Sprintf("%.3f", ratio(r)))
		}
		return rounds[len(rounds)/2], strings.Join(ratios, ", ")
	}
	med, ratios := median(single)
	node1 := med.r.rate
	{
		r := med.r
		note := fmt.Sprintf("%d RSA-2048 transfers from %d wallets, %d clients, one a request, until all 3 mempools hold them; the median of %d rounds", n, len(keys), b.sz.clients, len(single))
		if !r.complete {
			note += fmt.Sprintf("; INCOMPLETE: %d missing", r.missing)
		}
		b.goal("intake", "tx_per_s_node1", r.rate, "tx/s", 5000, false, note+med.note)
		b.fig("intake", "latency_p50_node1", ms(r.p50), "ms", "HTTP call")
		b.fig("intake", "latency_p99_node1", ms(r.p99), "ms", "")
		b.fig("intake", "vs_original", r.rate/originalIntake, "×", "original 23.8 tx/s (p50 305 ms, p99 938 ms)")
		b.fig("intake", "verify_rate_all_cores", med.limit*float64(len(net.urls)), "verifications/s", fmt.Sprintf(
			"chain.VerifyBytes, RSA-2048, %d goroutines: the mean of %.0f and %.0f, measured before and after the median round", runtime.GOMAXPROCS(0), med.verify[0], med.verify[1]))
		b.goal("intake", "ratio_to_verify_limit", r.rate/med.limit, "×", 0.5, false, fmt.Sprintf(
			"tx_per_s_node1 ÷ (verify_rate_all_cores ÷ %d nodes, one verification each); rounds, sorted: %s", len(net.urls), ratios))
	}
	{
		medb, ratiosb := median(batched)
		r := medb.r
		note := fmt.Sprintf("as tx_per_s_node1, %d transactions a request (POST /api/v1/txs with an array); the median of %d rounds", intakeBatch, len(batched))
		if !r.complete {
			note += fmt.Sprintf("; INCOMPLETE: %d missing", r.missing)
		}
		b.fig("intake", "tx_per_s_node1_batch", r.rate, "tx/s", note+medb.note)
		b.fig("intake", "latency_p50_node1_batch", ms(r.p50), "ms", fmt.Sprintf("HTTP call of %d transactions", intakeBatch))
		b.fig("intake", "latency_p99_node1_batch", ms(r.p99), "ms", "")
		b.goal("intake", "ratio_to_verify_limit_batch", r.rate/medb.limit, "×", 0.5, false, fmt.Sprintf(
			"tx_per_s_node1_batch ÷ (verifications/s on all cores around its round ÷ %d nodes); rounds, sorted: %s", len(net.urls), ratiosb))
	}
	bodies = bodies[n:]
	{
		r, err := b.postAll(ctx, net, net.urls, "/api/v1/txs", bodies[:n], http.StatusAccepted)
		if err != nil {
			return err
		}
		note := fmt.Sprintf("%d RSA-2048 transfers from %d wallets, %d clients, until all 3 mempools hold them", n, len(keys), b.sz.clients)
		if !r.complete {
			note += fmt.Sprintf("; INCOMPLETE: %d missing", r.missing)
		}
		b.goal("intake", "tx_per_s_spread", r.rate, "tx/s", 5000, false, note+dropNote(net))
		b.fig("intake", "latency_p50_spread", ms(r.p50), "ms", "HTTP call")
		b.fig("intake", "latency_p99_spread", ms(r.p99), "ms", "")
	}
	bodies = bodies[n:]
	net.Close()
	return b.intakeDataDir(ctx, keys, bodies, node1)
}

// intakeDataDir is the node1 variant with a data directory on node 1:
// each answer waits for the transaction's fdatasync (shared by every
// transaction submitted meanwhile) as well as the NATS flush. At the
// phase's client count the variant is latency bound (a client waits for a
// sync instead of sending its next transaction), so the throughput the
// disk costs is measured at saturation: four times the clients, against an
// in-memory network at the same count. bodies holds 3 × intakeTxs.
func (b *runner) intakeDataDir(ctx context.Context, keys []*rsa.PrivateKey, bodies [][]byte, inMemory float64) error {
	n := b.sz.intakeTxs
	dir, err := os.MkdirTemp("", "pycotr-bench-intake")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// run's note tells what node 1's group commits took: transactions
	// per fdatasync and per relay flush.
	run := func(dataDir string, clients int, bodies [][]byte) (postResult, string, error) {
		net, err := b.fundedNet(ctx, keys, dataDir)
		if err != nil {
			return postResult{}, "", err
		}
		defer net.Close()
		before := net.cl.Nodes[0].Stats()
		saved := b.sz.clients
		b.sz.clients = clients
		r, err := b.postAll(ctx, net, net.urls[:1], "/api/v1/txs", bodies, http.StatusAccepted)
		b.sz.clients = saved
		note := ""
		if err == nil && !r.complete {
			note = fmt.Sprintf("; INCOMPLETE: %d missing", r.missing)
		}
		s := net.cl.Nodes[0].Stats()
		per := func(n, d uint64) float64 { return float64(n) / float64(max(d, 1)) }
		local := s.TxAccepted["local"] - before.TxAccepted["local"]
		note += fmt.Sprintf("; node 1: %.1f transactions per relay flush", per(local, s.RelayFlushes-before.RelayFlushes))
		if dataDir != "" {
			note += fmt.Sprintf(", %.1f per fdatasync", per(s.LogRecords-before.LogRecords, s.LogSyncs-before.LogSyncs))
		}
		return r, note + dropNote(net), err
	}
	what := fmt.Sprintf("node 1 with a data directory (mempool.log, one fdatasync per group commit) in %s", os.TempDir())
	r, note, err := run(filepath.Join(dir, "a"), b.sz.clients, bodies[:n])
	if err != nil {
		return err
	}
	b.fig("intake", "tx_per_s_node1_datadir", r.rate, "tx/s", "as tx_per_s_node1, "+what+note)
	b.fig("intake", "latency_p50_node1_datadir", ms(r.p50), "ms", "HTTP call")
	b.fig("intake", "latency_p99_node1_datadir", ms(r.p99), "ms", "")
	b.fig("intake", "datadir_ratio_same_clients", r.rate/inMemory, "×", "tx_per_s_node1_datadir / tx_per_s_node1: latency bound")

	// The pair at saturation is measured in rounds, the two runs of a
	// round back to back and their order alternating, so that a drift of
	// the machine's speed meanwhile counts on both sides; the figure is
	// the median round's ratio. Every run starts a fresh network, so the
	// same transactions serve every run.
	many := 4 * b.sz.clients
	type round struct {
		mem, disk         postResult
		memNote, diskNote string
	}
	var rounds []round
	for i := range b.sz.datadirRounds {
		var rd round
		first, second := "", filepath.Join(dir, fmt.Sprintf("b%d", i))
		if i%2 == 1 {
			first, second = second, first
		}
		for _, dataDir := range []string{first, second} {
			r, note, err := run(dataDir, many, bodies[n:2*n])
			if err != nil {
				return err
			}
			if dataDir == "" {
				rd.mem, rd.memNote = r, note
			} else {
				rd.disk, rd.diskNote = r, note
			}
		}
		rounds = append(rounds, rd)
	}
	ratio := func(r round) float64 { return r.disk.rate / r.mem.rate }
	slices.SortFunc(rounds, func(x, y round) int { return cmp.Compare(ratio(x), ratio(y)) })
	med := rounds[len(rounds)/2]
	var ratios []string
	for _, r := range rounds {
		ratios = append(ratios, fmt.Sprintf("%.3f", ratio(r)))
	}
	b.fig("intake", "tx_per_s_node1_saturated", med.mem.rate, "tx/s", fmt.Sprintf("as tx_per_s_node1 with %d clients; the median round%s", many, med.memNote))
	b.fig("intake", "tx_per_s_node1_datadir_saturated", med.disk.rate, "tx/s", fmt.Sprintf("with %d clients, %s; the median round%s", many, what, med.diskNote))
	b.goal("intake", "datadir_ratio", ratio(med), "×", 0.8, false,
		fmt.Sprintf("tx_per_s_node1_datadir_saturated / tx_per_s_node1_saturated in %d rounds, sorted: %s (the median's p99 %.1f ms against %.1f)",
			len(rounds), strings.Join(ratios, ", "), ms(med.disk.p99), ms(med.mem.p99)))
	return nil
}

func (b *runner) compat(ctx context.Context) error {
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
	net, err := b.fundedNet(ctx, keys, "")
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
