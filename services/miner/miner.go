package miner

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// Config is a miner's settings and what it depends on, as functions.
type Config struct {
	Settings
	// Address is where rewards go; it is passed to Template.
	Address chain.Address
	// Template builds a block paying addr on the current best tip, with a
	// placeholder proof-of-work (chain.Chain.Template).
	Template func(addr chain.Address) *chain.Block
	// TipChanged returns a channel closed at the next change of the best
	// tip (chain.Chain.TipChanged).
	TipChanged func() <-chan struct{}
	// Submit takes a solved block: the node's one block entry point, then
	// the announcement. The miner does not look at what became of it.
	Submit func(*chain.Block)
	Logger *slog.Logger // nil = discard
}

// Miner is a node's mining loop and its run-time controls. Its methods
// are safe for concurrent use; Run is called once.
type Miner struct {
	cfg Config
	log *slog.Logger
	pow chain.Miner
	rnd *rand.Rand // used by Run's goroutine only

	aborts atomic.Uint64

	mu      sync.Mutex
	on      bool
	pause   time.Duration
	limit   float64       // hashes/s; 0 = none
	changed chan struct{} // closed and replaced on start/stop/pause/limit change
	rate    rateMeter
}

// New checks cfg and returns a miner, on if cfg.Autostart; nothing runs
// until Run.
func New(cfg Config) (*Miner, error) {
	if cfg.Template == nil || cfg.TipChanged == nil || cfg.Submit == nil {
		return nil, errors.New("miner: Template, TipChanged and Submit are required")
	}
	if err := cfg.Normalize(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	return &Miner{
		cfg: cfg, log: cfg.Logger, pow: chain.Miner{Workers: cfg.Workers},
		rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		on:  cfg.Autostart, pause: cfg.Pause, limit: cfg.HashRate, changed: make(chan struct{}),
	}, nil
}

// Start turns the miner on; Stop turns it off (a solve in progress ends).
func (m *Miner) Start() { m.update(func() { m.on = true }) }
func (m *Miner) Stop()  { m.update(func() { m.on = false }) }

// Mining reports whether the miner is on.
func (m *Miner) Mining() bool { m.mu.Lock(); defer m.mu.Unlock(); return m.on }

// Pause is the miner's current pause.
func (m *Miner) Pause() time.Duration { m.mu.Lock(); defer m.mu.Unlock(); return m.pause }

// SetPause changes the pause at run time (0 to MaxPause).
func (m *Miner) SetPause(d time.Duration) error {
	if err := CheckPause(d); err != nil {
		return err
	}
	m.update(func() { m.pause = d })
	return nil
}

// HashRateLimit is the hash-rate limit in hashes/s, 0 for none.
func (m *Miner) HashRateLimit() float64 { m.mu.Lock(); defer m.mu.Unlock(); return m.limit }

// SetHashRate changes the hash-rate limit at run time (hashes/s, 0 = no
// limit).
func (m *Miner) SetHashRate(r float64) error {
	if err := CheckHashRate(r); err != nil {
		return err
	}
	m.update(func() { m.limit = r })
	return nil
}

// Mode is the miner's mode.
func (m *Miner) Mode() Mode { return m.cfg.Mode }

// Address is where the miner's rewards go.
func (m *Miner) Address() chain.Address { return m.cfg.Address }

// HashRate is the proof-of-work rate in hashes per second, averaged over
// at least the last second (0 while the miner is stopped).
func (m *Miner) HashRate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rate.sample(m.pow.Hashes(), time.Now())
}

// Hashes is the total number of proof-of-work tries made.
func (m *Miner) Hashes() uint64 { return m.pow.Hashes() }

// Aborts counts solves abandoned because a new tip arrived.
func (m *Miner) Aborts() uint64 { return m.aborts.Load() }

func (m *Miner) watch() <-chan struct{} { m.mu.Lock(); defer m.mu.Unlock(); return m.changed }

func (m *Miner) update(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
	close(m.changed)
	m.changed = make(chan struct{})
}

// Run is the miner loop: wait as the mode says, then mine one block; it
// returns when ctx ends.
func (m *Miner) Run(ctx context.Context) {
	for ctx.Err() == nil {
		changed := m.watch()
		if !m.Mining() {
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
func (m *Miner) wait(ctx context.Context, changed <-chan struct{}) bool {
	switch m.cfg.Mode {
	case ModeRace:
		return true
	case ModePoisson:
		for {
			tip := m.cfg.TipChanged()
			d := time.Duration(m.rnd.ExpFloat64() * float64(m.Pause()))
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
		t := time.NewTimer(m.Pause())
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
func (m *Miner) mineOne(ctx context.Context, changed <-chan struct{}) {
	for ctx.Err() == nil {
		tipChanged := m.cfg.TipChanged()
		tmpl := m.cfg.Template(m.cfg.Address)
		sctx, cancel := context.WithCancel(ctx)
		aborted := make(chan struct{})
		done := make(chan struct{})
		go func() { // owned: ends when the solve ends (sctx done), waited for below
			defer close(done)
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
		<-done
		if err != nil {
			select {
			case <-aborted:
				m.aborts.Add(1)
				m.log.Debug("solve aborted for a new tip", "prev", tmpl.Header.PrevHash.Short())
				continue // a better tip: mine on it right away
			default:
			}
			if !errors.Is(err, context.Canceled) {
				m.log.Warn("proof-of-work", "err", err)
			}
			return
		}
		tmpl.Header = hdr
		m.cfg.Submit(tmpl)
		return
	}
}

// solve runs the proof-of-work, at the configured hash-rate limit if any:
// slices of about 20 ms of work, each followed by a sleep that keeps the
// tries made since the start at limit × elapsed time.
func (m *Miner) solve(ctx context.Context, hdr chain.Header) (chain.Header, error) {
	limit := m.HashRateLimit()
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
