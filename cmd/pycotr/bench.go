package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
)

// `pycotr bench`: the network's figures, each a rate or a ratio measured
// in one run on this machine, beside its target and the original's
// figure. BENCHMARKS.md explains each method.

// benchPhases lists the phases in the order they run.
var benchPhases = []string{"pow", "intake", "compat", "propagation", "sync", "netcost", "ledger", "memory"}

// benchSizes are a run's sizes: the full run, or --quick for the test.
type benchSizes struct {
	powSeconds     float64
	senders        int // 2048-bit wallets for intake
	intakeTxs      int // per variant
	compatTxs      int // per round
	compatRounds   int // each between two reference measurements
	clients        int // concurrent HTTP clients
	propBlocks     int
	propTxBlocks   int // blocks of propTxs transactions each
	propTxs        int
	syncBlocks     int
	syncTxs        int // per block
	netHeights     []uint64
	ledgerAccounts []int
	admitTxs       int
	memoryBlocks   int
}

var fullSizes = benchSizes{
	powSeconds: 2, senders: 8, intakeTxs: 5000, compatTxs: 4000, compatRounds: 3, clients: 32,
	propBlocks: 60, propTxBlocks: 20, propTxs: 200, syncBlocks: 10_000, syncTxs: 20,
	netHeights: []uint64{100, 1_000, 10_000}, ledgerAccounts: []int{10_000, 100_000}, admitTxs: 2000,
	memoryBlocks: 100_000,
}

var quickSizes = benchSizes{
	powSeconds: 0.2, senders: 2, intakeTxs: 150, compatTxs: 40, compatRounds: 1, clients: 8,
	propBlocks: 6, propTxBlocks: 3, propTxs: 30, syncBlocks: 150, syncTxs: 20,
	netHeights: []uint64{10, 30, 60}, ledgerAccounts: []int{1_000, 5_000}, admitTxs: 100,
	memoryBlocks: 5_000,
}

// figure is one measured number.
type figure struct {
	Phase  string  `json:"phase"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"` // what the figure should reach
	Met    *bool   `json:"met,omitempty"`    // whether it does
	Note   string  `json:"note,omitempty"`
}

// benchReport is the whole run.
type benchReport struct {
	Machine struct {
		CPUs       int    `json:"cpus"`
		GOMAXPROCS int    `json:"gomaxprocs"`
		CPU        string `json:"cpu"`
		Go         string `json:"go"`
		Date       string `json:"date"`
		LoadAvg    string `json:"loadavg_start"`
	} `json:"machine"`
	Command string             `json:"command"`
	Quick   bool               `json:"quick"`
	Phases  map[string]float64 `json:"phase_seconds"`
	Figures []figure           `json:"figures"`
}

// bench is one run's state.
type bench struct {
	sz     benchSizes
	quick  bool
	report benchReport
	prog   *progress
	mu     sync.Mutex

	profPrefix string // --cpuprofile: one profile per phase, of its measured part only
	profFile   *os.File
}

// profile starts a CPU profile of a phase's measured part, when asked
// for; the returned function stops it. Fixtures (key generation,
// signing, chain building) stay out of the profile.
func (b *bench) profile(phase string) func() {
	if b.profPrefix == "" || b.profFile != nil {
		return func() {}
	}
	f, err := os.Create(b.profPrefix + "." + phase)
	if err != nil {
		b.prog.line("cpuprofile: %v", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		b.prog.line("cpuprofile: %v", err)
		return func() {}
	}
	b.profFile = f
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		b.profFile = nil
	}
}

func (b *bench) add(f figure) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.report.Figures = append(b.report.Figures, f)
}

// fig records a figure without a target.
func (b *bench) fig(phase, name string, v float64, unit, note string) {
	b.add(figure{Phase: phase, Name: name, Value: v, Unit: unit, Note: note})
}

// goal records a figure with a target: at least (or, with atMost, at most) want.
func (b *bench) goal(phase, name string, v float64, unit string, want float64, atMost bool, note string) {
	met := v >= want
	t := "≥ " + fmtNum(want)
	if atMost {
		met = v <= want
		t = "≤ " + fmtNum(want)
	}
	b.add(figure{Phase: phase, Name: name, Value: v, Unit: unit, Target: t, Met: &met, Note: note})
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quick := fs.Bool("quick", false, "small sizes: a short run (the test's)")
	only := fs.String("only", "", "comma-separated phases to run: "+strings.Join(benchPhases, ","))
	cpuprofile := fs.String("cpuprofile", "", "write CPU profiles of each phase's measured part to `prefix`.<phase>")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	run := map[string]bool{}
	if *only == "" {
		for _, p := range benchPhases {
			run[p] = true
		}
	} else {
		for _, p := range strings.Split(*only, ",") {
			p = strings.TrimSpace(p)
			if !slices.Contains(benchPhases, p) {
				return usagef("--only: unknown phase %q (want %s)", p, strings.Join(benchPhases, ","))
			}
			run[p] = true
		}
	}
	b := &bench{sz: fullSizes, quick: *quick}
	if *quick {
		b.sz = quickSizes
	}
	progOut := stderr
	if *quiet {
		progOut = io.Discard
	}
	b.prog = &progress{w: progOut}
	b.report.Command = "pycotr bench " + strings.Join(args, " ")
	b.report.Quick = *quick
	b.report.Phases = map[string]float64{}
	m := &b.report.Machine
	m.CPUs, m.GOMAXPROCS, m.CPU, m.Go = runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), runtime.Version()
	m.Date = time.Now().UTC().Format(time.RFC3339)
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.TrimSpace(string(la))
	}
	b.profPrefix = *cpuprofile
	phases := map[string]func(context.Context) error{
		"pow": b.pow, "intake": b.intake, "compat": b.compat, "propagation": b.propagation,
		"sync": b.sync, "netcost": b.netcost, "ledger": b.ledger, "memory": b.memory,
	}
	for _, p := range benchPhases {
		if !run[p] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		b.prog.line("▶ %s", p)
		start := time.Now()
		if err := phases[p](ctx); err != nil {
			return fmt.Errorf("phase %s: %w", p, err)
		}
		el := time.Since(start)
		b.report.Phases[p] = el.Seconds()
		b.prog.line("✓ %s (%.1fs)", p, el.Seconds())
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(&b.report)
	}
	b.printTable(stdout)
	return nil
}

func (b *bench) printTable(w io.Writer) {
	m := b.report.Machine
	fmt.Fprintf(w, "pycotr bench — %s, %d CPUs (GOMAXPROCS %d), %s, %s\n\n", m.CPU, m.CPUs, m.GOMAXPROCS, m.Go, m.Date)
	fmt.Fprintf(w, "| phase | figure | value | unit | target | met | note |\n|---|---|---:|---|---|---|---|\n")
	for _, f := range b.report.Figures {
		met := ""
		if f.Met != nil {
			met = "no"
			if *f.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", f.Phase, f.Name, fmtNum(f.Value), f.Unit, f.Target, met, f.Note)
	}
	fmt.Fprintln(w)
	for _, p := range benchPhases {
		if s, ok := b.report.Phases[p]; ok {
			fmt.Fprintf(w, "%s %.1fs  ", p, s)
		}
	}
	fmt.Fprintln(w)
}

// fmtNum prints a number with three significant digits, or as an integer.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// progress prints phase lines and, at most twice a second, a long
// phase's count, on stderr.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
}

func (p *progress) line(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) tick(what string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done < total && time.Since(p.last) < 500*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "  %s %d/%d\n", what, done, total)
}

// Helpers shared by the phases.

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

// nextBlock builds and solves the block after c's tip paying miner, with
// txs, its timestamp one millisecond after the tip's.
func nextBlock(ctx context.Context, c *chain.Chain, miner chain.Address, txs []chain.Tx) (*chain.Block, error) {
	tip := c.Tip()
	p := c.Params()
	var fees int64
	for i := range txs {
		fees += txs[i].Fee
	}
	blk := &chain.Block{Txs: append([]chain.Tx{chain.NewReward(miner, p.Reward+fees)}, txs...)}
	blk.Header = chain.Header{Version: chain.BlockVersion, Height: tip.Height + 1, PrevHash: tip.Hash,
		Timestamp: tip.Timestamp + 1, Bits: p.Bits}
	blk.Header.MerkleRoot = blk.ComputeMerkleRoot()
	var m chain.Miner
	h, err := m.Solve(ctx, blk.Header)
	if err != nil {
		return nil, err
	}
	blk.Header = h
	return blk, nil
}

// extend builds a block on the first chain and processes it on all.
func extend(ctx context.Context, chains []*chain.Chain, miner chain.Address, txs []chain.Tx) (*chain.Block, error) {
	blk, err := nextBlock(ctx, chains[0], miner, txs)
	if err != nil {
		return nil, err
	}
	for _, c := range chains {
		if _, err := c.ProcessBlock(blk); err != nil {
			return nil, err
		}
	}
	return blk, nil
}

// genKeys makes n RSA keys of the given size on all cores.
func genKeys(n, bits int) ([]*rsa.PrivateKey, error) {
	keys := make([]*rsa.PrivateKey, n)
	err := parallel(n, func(i int) error {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		keys[i] = k
		return err
	})
	return keys, err
}

// parallel runs f(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var ferr error
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { ferr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return ferr
}

// signTransfers pre-signs n transfers of 1 unit, sender i%len(keys) to
// the next key's address, fee 1 + i%5, on all cores.
func (b *bench) signTransfers(what string, keys []*rsa.PrivateKey, n int) ([]chain.Tx, error) {
	addrs := make([]chain.Address, len(keys))
	for i, k := range keys {
		addrs[i] = chain.AddressOf(&k.PublicKey)
	}
	txs := make([]chain.Tx, n)
	var done atomic.Int64
	err := parallel(n, func(i int) error {
		k := i % len(keys)
		tx, err := chain.NewTransfer(keys[k], addrs[(k+1)%len(keys)], 1, int64(1+i%5), "")
		txs[i] = tx
		b.prog.tick("signing "+what, int(done.Add(1)), n)
		return err
	})
	return txs, err
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

// waitFor polls cond every interval until it holds or timeout passes.
func waitFor(ctx context.Context, timeout, interval time.Duration, cond func() bool) bool {
	dl := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(dl) || ctx.Err() != nil {
			return false
		}
		time.Sleep(interval)
	}
}
