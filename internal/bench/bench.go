package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"
)

// Phases lists the phases in the order they run.
var Phases = []string{"pow", "intake", "compat", "propagation", "sync", "netcost", "ledger", "memory"}

// OnDemand lists the phases that run only when named (--only), after
// the others: each takes minutes.
var OnDemand = []string{"scale"}

// ErrUnknownPhase is returned by Run for a phase not in Phases.
var ErrUnknownPhase = errors.New("unknown phase")

// Options is what to run and how.
type Options struct {
	Phases     []string // some of Phases, in any order; none for all
	Quick      bool     // small sizes: a short run (the test's)
	CPUProfile string   // if set, a CPU profile of each phase's measured part goes to CPUProfile.<phase>
	Command    string   // how the run was started, recorded in the report
}

// sizes are a run's sizes: the full run, or Quick for the test.
type sizes struct {
	powSeconds     float64
	senders        int // 2048-bit wallets for intake
	intakeTxs      int // per variant
	intakeRounds   int // of node 1's intake, each between two measurements of the verification rate
	compatTxs      int // per round
	compatRounds   int // each between two reference measurements
	datadirRounds  int // pairs of saturated intake runs, with and without a data directory
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

var fullSizes = sizes{
	powSeconds: 2, senders: 8, intakeTxs: 5000, intakeRounds: 3, compatTxs: 4000, compatRounds: 3, datadirRounds: 5, clients: 32,
	propBlocks: 60, propTxBlocks: 20, propTxs: 200, syncBlocks: 10_000, syncTxs: 20,
	netHeights: []uint64{100, 1_000, 10_000}, ledgerAccounts: []int{10_000, 100_000}, admitTxs: 2000,
	memoryBlocks: 100_000,
}

var quickSizes = sizes{
	powSeconds: 0.2, senders: 2, intakeTxs: 150, intakeRounds: 1, compatTxs: 40, compatRounds: 1, datadirRounds: 1, clients: 8,
	propBlocks: 6, propTxBlocks: 3, propTxs: 30, syncBlocks: 150, syncTxs: 20,
	netHeights: []uint64{10, 30, 60}, ledgerAccounts: []int{1_000, 5_000}, admitTxs: 100,
	memoryBlocks: 5_000,
}

// runner is one run's state.
type runner struct {
	sz     sizes
	report Report
	prog   *progress
	mu     sync.Mutex

	profPrefix string         // Options.CPUProfile
	profRuns   map[string]int // profiles written per name, to number repeated runs
	profFile   *os.File
}

// Run runs the phases opts asks for, writing progress lines to progress
// (nil for none), and returns the report; after a phase fails, the report
// holds the figures of the phases before it.
func Run(ctx context.Context, opts Options, progress io.Writer) (Report, error) {
	run := map[string]bool{}
	for _, p := range opts.Phases {
		if !slices.Contains(Phases, p) && !slices.Contains(OnDemand, p) {
			return Report{}, fmt.Errorf("%w %q (want %s)", ErrUnknownPhase, p, strings.Join(slices.Concat(Phases, OnDemand), ","))
		}
		run[p] = true
	}
	if len(run) == 0 {
		for _, p := range Phases {
			run[p] = true
		}
	}
	if progress == nil {
		progress = io.Discard
	}
	b := &runner{sz: fullSizes, prog: newProgress(progress), profPrefix: opts.CPUProfile}
	if opts.Quick {
		b.sz = quickSizes
	}
	b.report = Report{Machine: thisMachine(), Command: opts.Command, Quick: opts.Quick, Phases: map[string]float64{}}
	phases := map[string]func(context.Context) error{
		"pow": b.pow, "intake": b.intake, "compat": b.compat, "propagation": b.propagation,
		"sync": b.sync, "netcost": b.netcost, "ledger": b.ledger, "memory": b.memory,
		"scale": b.scale,
	}
	for _, p := range slices.Concat(Phases, OnDemand) {
		if !run[p] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return b.report, err
		}
		b.prog.line("▶ %s", p)
		start := time.Now()
		if err := phases[p](ctx); err != nil {
			return b.report, fmt.Errorf("phase %s: %w", p, err)
		}
		el := time.Since(start)
		b.report.Phases[p] = el.Seconds()
		b.prog.line("✓ %s (%.1fs)", p, el.Seconds())
	}
	return b.report, nil
}

// profile starts a CPU profile of a phase's measured part, when asked
// for; the returned function stops it. Fixtures (key generation,
// signing, chain building) stay out of the profile.
func (b *runner) profile(phase string) func() {
	if b.profPrefix == "" || b.profFile != nil {
		return func() {}
	}
	// A phase that profiles several runs (intake's five POST runs) gets
	// one file per run: <prefix>.<phase>, then <prefix>.<phase>.2, ….
	if b.profRuns == nil {
		b.profRuns = map[string]int{}
	}
	b.profRuns[phase]++
	name := b.profPrefix + "." + phase
	if n := b.profRuns[phase]; n > 1 {
		name += fmt.Sprintf(".%d", n)
	}
	f, err := os.Create(name)
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

func (b *runner) add(f Figure) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.report.Figures = append(b.report.Figures, f)
}

// fig records a figure without a target.
func (b *runner) fig(phase, name string, v float64, unit, note string) {
	b.add(Figure{Phase: phase, Name: name, Value: v, Unit: unit, Note: note})
}

// goal records a figure with a target: at least (or, with atMost, at most) want.
func (b *runner) goal(phase, name string, v float64, unit string, want float64, atMost bool, note string) {
	met := v >= want
	t := "≥ " + fmtNum(want)
	if atMost {
		met = v <= want
		t = "≤ " + fmtNum(want)
	}
	b.add(Figure{Phase: phase, Name: name, Value: v, Unit: unit, Target: t, Met: &met, Note: note})
}

// progress prints phase lines and, at most twice a second, a long
// phase's count.
type progress struct {
	w    io.Writer
	mu   sync.Mutex
	last time.Time
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

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
