package services

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// MinerMode says how a node paces its mining (DESIGN §4).
type MinerMode string

const (
	// ModePaced is the original's behaviour: wait the pause, then mine a
	// block on the best tip.
	ModePaced MinerMode = "paced"
	// ModePoisson draws each wait from an exponential distribution with the
	// pause as its mean, and draws again on every new tip: a model of a
	// hash-power race in which forks happen on their own.
	ModePoisson MinerMode = "poisson"
	// ModeRace hashes continuously with no pause.
	ModeRace MinerMode = "race"
)

// ParseMinerMode reads a mode name.
func ParseMinerMode(s string) (MinerMode, error) {
	switch m := MinerMode(s); m {
	case ModePaced, ModePoisson, ModeRace:
		return m, nil
	case "":
		return ModePaced, nil
	}
	return "", fmt.Errorf("miner mode %q: want paced, poisson or race", s)
}

// MaxPause bounds the miner pause.
const MaxPause = 24 * time.Hour

// MaxHashRate bounds the hash-rate limit (far above what one core does).
const MaxHashRate = 1e10

func checkHashRate(r float64) error {
	if !(r >= 0 && r <= MaxHashRate) { // also refuses NaN
		return fmt.Errorf("miner hash rate %g: want 0 (no limit) to %g hashes/s", r, MaxHashRate)
	}
	return nil
}

// MinerConfig configures a node's miner.
type MinerConfig struct {
	Mode      MinerMode
	Pause     time.Duration
	Autostart bool    // mine from the start
	Workers   int     // proof-of-work goroutines; 0 = 1, <0 = all cores
	Seed      uint64  // for poisson waits; 0 = random
	HashRate  float64 // limit in hashes per second (the race mode's "power"); 0 = as fast as the CPU goes
}

func (c *MinerConfig) normalize() error {
	m, err := ParseMinerMode(string(c.Mode))
	if err != nil {
		return err
	}
	c.Mode = m
	if c.Pause < 0 || c.Pause > MaxPause {
		return fmt.Errorf("miner pause %s: want 0 to %s", c.Pause, MaxPause)
	}
	if err := checkHashRate(c.HashRate); err != nil {
		return err
	}
	return nil
}

// miner is a node's mining loop.
type miner struct {
	n   *Node
	cfg MinerConfig
	pow chain.Miner
	rnd *rand.Rand

	mu      sync.Mutex
	on      bool
	pauseD  time.Duration
	limit   float64       // hashes/s; 0 = none
	changed chan struct{} // closed and replaced on start/stop/pause/limit change
	rate    rateMeter

	// observe, if set (tests), is told when a template is started on a tip
	// and when a solve is aborted for a new tip.
	observe func(event string, prev chain.Hash)
}

func newMiner(n *Node, cfg MinerConfig) *miner {
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &miner{n: n, cfg: cfg, pow: chain.Miner{Workers: cfg.Workers}, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		on: cfg.Autostart, pauseD: cfg.Pause, limit: cfg.HashRate, changed: make(chan struct{})}
}

func (m *miner) enabled() bool        { m.mu.Lock(); defer m.mu.Unlock(); return m.on }
func (m *miner) pause() time.Duration { m.mu.Lock(); defer m.mu.Unlock(); return m.pauseD }
func (m *miner) hashRate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rate.sample(m.pow.Hashes(), time.Now())
}

func (m *miner) watch() <-chan struct{} { m.mu.Lock(); defer m.mu.Unlock(); return m.changed }

func (m *miner) update(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *miner) setEnabled(on bool)       { m.update(func() { m.on = on }) }
func (m *miner) setPause(d time.Duration) { m.update(func() { m.pauseD = d }) }
func (m *miner) setLimit(r float64)       { m.update(func() { m.limit = r }) }
func (m *miner) hashLimit() float64       { m.mu.Lock(); defer m.mu.Unlock(); return m.limit }
func (m *miner) note(event string, h chain.Hash) {
	if m.observe != nil {
		m.observe(event, h)
	}
}

// run is the miner loop: wait as the mode says, then mine one block.
func (m *miner) run(ctx context.Context) {
	for ctx.Err() == nil {
		changed := m.watch()
		if !m.enabled() {
			select {
			case <-ctx.Done():
			case <-changed:
			}
			continue
		}
		if !m.wait(ctx, changed) {
			continue // stopped, pause changed or shutting down: look again
		}
		m.mineOne(ctx, changed)
	}
}

// wait sleeps before the next block; false if interrupted by a control
// change or shutdown.
func (m *miner) wait(ctx context.Context, changed <-chan struct{}) bool {
	switch m.cfg.Mode {
	case ModeRace:
		return true
	case ModePoisson:
		for {
			tip := m.n.chain.TipChanged()
			d := time.Duration(m.rnd.ExpFloat64() * float64(m.pause()))
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return false
			case <-changed:
				t.Stop()
				return false
			case <-tip:
				t.Stop() // a new tip restarts the race
			case <-t.C:
				return true
			}
		}
	default:
		t := time.NewTimer(m.pause())
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-changed:
			return false
		case <-t.C:
			return true
		}
	}
}

// mineOne builds a template on the best tip and solves it; when a better
// tip arrives meanwhile it aborts at once and starts again on the new tip.
func (m *miner) mineOne(ctx context.Context, changed <-chan struct{}) {
	for ctx.Err() == nil {
		tipChanged := m.n.chain.TipChanged()
		tmpl := m.n.chain.Template(m.n.minerA)
		m.note("template", tmpl.Header.PrevHash)
		sctx, cancel := context.WithCancel(ctx)
		aborted := make(chan struct{})
		go func() { // owned: ends when the solve ends (sctx done)
			select {
			case <-tipChanged:
				close(aborted)
				cancel()
			case <-changed:
				cancel()
			case <-sctx.Done():
			}
		}()
		hdr, err := m.solve(sctx, tmpl.Header)
		cancel()
		if err != nil {
			select {
			case <-aborted:
				m.note("abort", tmpl.Header.PrevHash)
				continue // a better tip: mine on it right away
			default:
			}
			if !errors.Is(err, context.Canceled) {
				m.n.log.Warn("proof-of-work", "err", err)
			}
			return
		}
		tmpl.Header = hdr
		m.publish(tmpl)
		return
	}
}

func (m *miner) publish(b *chain.Block) {
	out, err := m.n.processBlock(b)
	if err != nil {
		m.n.log.Warn("own block rejected", "hash", out.Hash.Short(), "err", err)
		return
	}
	if len(out.Connected) == 0 {
		return // the tip moved just as we solved: our block is a side branch
	}
	m.n.stats.BlocksMined.Add(1)
	m.n.afterProcess(m.n.cfg.ID, out, nil)
	m.n.log.Info("mined block", "height", b.Header.Height, "hash", out.Hash.Short(), "txs", len(b.Txs)-1)
	if err := m.n.bus.PublishBlock(b); err != nil {
		m.n.log.Warn("announce block", "err", err)
	}
	m.n.requestConsensus()
}

// solve runs the proof-of-work, at the configured hash-rate limit if any:
// slices of about 20 ms of work, each followed by a sleep that keeps the
// tries made since the start at limit × elapsed time.
func (m *miner) solve(ctx context.Context, hdr chain.Header) (chain.Header, error) {
	limit := m.hashLimit()
	if limit <= 0 {
		return m.pow.Solve(ctx, hdr)
	}
	slice := uint64(max(limit/50, 16))
	start, before := time.Now(), m.pow.Hashes()
	for {
		next, ok, err := m.pow.SolveRange(ctx, hdr, slice)
		if err != nil {
			return hdr, err
		}
		tries := m.pow.Hashes() - before
		if ctx.Err() != nil {
			return hdr, ctx.Err()
		}
		if wait := time.Until(start.Add(time.Duration(float64(tries) / limit * float64(time.Second)))); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return hdr, ctx.Err()
			case <-t.C:
			}
		}
		if ok {
			return next, nil
		}
		hdr = next
	}
}

// rateMeter turns a growing counter into a rate averaged over at least a
// second (idle time included, so a stopped miner reads 0).
type rateMeter struct {
	at    time.Time
	count uint64
	rate  float64
}

func (r *rateMeter) sample(count uint64, now time.Time) float64 {
	if r.at.IsZero() {
		r.at, r.count = now, count
		return 0
	}
	if el := now.Sub(r.at); el >= time.Second {
		r.rate = float64(count-r.count) / el.Seconds()
		r.at, r.count = now, count
	}
	return r.rate
}
