package miner

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// fakeChain is what a miner depends on, for tests: a tip that tests move,
// templates recorded by the tip they were built on, submitted blocks kept.
type fakeChain struct {
	bits uint32

	mu        sync.Mutex
	tip       chain.Hash
	watch     chan struct{}
	templates []chain.Hash // prev hash of each template, in order
	submitted []submission
}

type submission struct {
	prev chain.Hash
	at   time.Time
}

func newFakeChain(bits uint32) *fakeChain {
	return &fakeChain{bits: bits, watch: make(chan struct{})}
}

func (f *fakeChain) Template(addr chain.Address) *chain.Block {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.templates = append(f.templates, f.tip)
	return &chain.Block{Header: chain.Header{PrevHash: f.tip, Bits: f.bits}}
}

func (f *fakeChain) TipChanged() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.watch
}

func (f *fakeChain) Submit(b *chain.Block) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.submitted = append(f.submitted, submission{b.Header.PrevHash, time.Now()})
}

// setTip moves the tip, as a block from a peer would.
func (f *fakeChain) setTip(h chain.Hash) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tip = h
	close(f.watch)
	f.watch = make(chan struct{})
}

func (f *fakeChain) state() (templates []chain.Hash, submitted []submission) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chain.Hash(nil), f.templates...), append([]submission(nil), f.submitted...)
}

func newTestMiner(t *testing.T, f *fakeChain, s Settings) *Miner {
	t.Helper()
	m, err := New(Config{Settings: s, Template: f.Template, TipChanged: f.TipChanged, Submit: f.Submit})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// run starts m.Run in the bubble and stops it at the end of the test body.
func run(t *testing.T, m *Miner) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestPacedWaitsThePause: in paced mode each block is submitted one pause
// after the previous one (fake clock; bits 0, so a solve takes one try).
func TestPacedWaitsThePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeChain(0)
		m := newTestMiner(t, f, Settings{Mode: ModePaced, Pause: 5 * time.Second, Autostart: true})
		start := time.Now()
		run(t, m)
		time.Sleep(16 * time.Second)
		synctest.Wait()
		_, subs := f.state()
		if len(subs) != 3 {
			t.Fatalf("%d blocks in 16 s at a 5 s pause, want 3", len(subs))
		}
		for i, s := range subs {
			if want := start.Add(time.Duration(i+1) * 5 * time.Second); !s.at.Equal(want) {
				t.Errorf("block %d at %s, want %s", i+1, s.at.Sub(start), want.Sub(start))
			}
		}
	})
}

// TestStopAndPauseChange: a stopped miner submits nothing; a new pause
// applies at once.
func TestStopAndPauseChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeChain(0)
		m := newTestMiner(t, f, Settings{Pause: time.Hour})
		run(t, m)
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		if _, subs := f.state(); len(subs) != 0 || m.Mining() {
			t.Fatalf("a miner never started submitted %d blocks (mining %v)", len(subs), m.Mining())
		}
		m.Start()
		if err := m.SetPause(time.Second); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		time.Sleep(time.Second)
		synctest.Wait()
		_, subs := f.state()
		if len(subs) != 1 || !subs[0].at.Equal(start.Add(time.Second)) {
			t.Fatalf("after SetPause(1s): %d blocks, want 1 at +1s", len(subs))
		}
		m.Stop()
		time.Sleep(time.Hour)
		synctest.Wait()
		if _, subs := f.state(); len(subs) != 1 {
			t.Fatalf("a stopped miner submitted: %d blocks", len(subs))
		}
		if err := m.SetPause(MaxPause + 1); err == nil {
			t.Error("SetPause above MaxPause accepted")
		}
		if err := m.SetHashRate(-1); err == nil {
			t.Error("negative hash rate accepted")
		}
	})
}

// TestAbortOnNewTip: a miner solving a template aborts when the tip
// changes and starts a template on the new tip at once, submitting
// nothing for the old one. The solve is hash-rate limited on an
// unsolvable header, so it sleeps on the fake clock between slices.
func TestAbortOnNewTip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeChain(255)
		m := newTestMiner(t, f, Settings{Mode: ModeRace, HashRate: 1000, Autostart: true})
		run(t, m)
		time.Sleep(time.Second)
		synctest.Wait()
		tmpls, _ := f.state()
		genesis := chain.Hash{}
		if len(tmpls) != 1 || tmpls[0] != genesis || m.Hashes() == 0 {
			t.Fatalf("templates %v, hashes %d: want one template on the first tip, solving", tmpls, m.Hashes())
		}
		next := chain.Hash{1}
		f.setTip(next)
		synctest.Wait() // the abort and the new template take no fake time
		tmpls, subs := f.state()
		if len(tmpls) != 2 || tmpls[1] != next {
			t.Fatalf("templates %v, want a second one on the new tip", tmpls)
		}
		if m.Aborts() != 1 || len(subs) != 0 {
			t.Errorf("aborts %d, submitted %d: want 1 and 0", m.Aborts(), len(subs))
		}
	})
}

// TestHashRateLimit: a limited solve makes about limit × elapsed tries.
func TestHashRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeChain(255)
		m := newTestMiner(t, f, Settings{Mode: ModeRace, HashRate: 5000, Autostart: true})
		run(t, m)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if h := m.Hashes(); h < 49_000 || h > 51_000 {
			t.Errorf("%d tries in 10 s at 5000/s, want about 50000", h)
		}
		m.HashRate() // starts the meter
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if r := m.HashRate(); r < 4900 || r > 5100 {
			t.Errorf("measured %f hashes/s, want about 5000", r)
		}
	})
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModePaced, "paced": ModePaced, "poisson": ModePoisson, "race": ModeRace} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseMode("fast"); err == nil {
		t.Error("ParseMode accepted an unknown mode")
	}
}
