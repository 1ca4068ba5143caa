package services

import (
	"slices"
	"testing"
	"time"
)

// heldCommit is a commit function the test holds: each call reports its
// batch on batches, then waits for release.
type heldCommit struct {
	batches chan []string
	release chan struct{}
}

func newHeldCommit() *heldCommit {
	return &heldCommit{batches: make(chan []string, 16), release: make(chan struct{})}
}

func (h *heldCommit) commit(items []string) error {
	h.batches <- slices.Clone(items)
	<-h.release
	return nil
}

func (h *heldCommit) next(t *testing.T) []string {
	t.Helper()
	select {
	case b := <-h.batches:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no commit within 10 s")
		return nil
	}
}

func waitResult(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result within 10 s")
	}
}

// Under load (the previous batch held more than one item) a batch smaller
// than lingerMin waits for more before committing; the linger here is an
// hour, so only the second item can end it.
func TestGroupCommitLingersUnderLoad(t *testing.T) {
	h := newHeldCommit()
	g := newGroupCommit(groupOptions{queue: 16, maxBatch: 16, linger: time.Hour, lingerMin: 2}, h.commit)
	defer g.close()

	a := g.submit("a", true)
	if b := h.next(t); !slices.Equal(b, []string{"a"}) {
		t.Fatalf("first batch %v, want [a]", b)
	}
	// b and c queue while a's commit runs: one batch, without lingering
	// (a's batch was a lone item).
	bc := []<-chan error{g.submit("b", true), g.submit("c", true)}
	h.release <- struct{}{}
	waitResult(t, a)
	if b := h.next(t); !slices.Equal(b, []string{"b", "c"}) {
		t.Fatalf("second batch %v, want [b c]", b)
	}
	// d alone after a batch of two: it waits for e.
	d := g.submit("d", true)
	h.release <- struct{}{}
	for _, c := range bc {
		waitResult(t, c)
	}
	e := g.submit("e", true)
	if b := h.next(t); !slices.Equal(b, []string{"d", "e"}) {
		t.Fatalf("third batch %v, want [d e]: d should have lingered for e", b)
	}
	h.release <- struct{}{}
	waitResult(t, d)
	waitResult(t, e)
}

// A lone caller, the first or after a batch of one, commits at once even
// with an hour's linger.
func TestGroupCommitLoneCallerDoesNotLinger(t *testing.T) {
	h := newHeldCommit()
	close(h.release)
	g := newGroupCommit(groupOptions{queue: 16, maxBatch: 16, linger: time.Hour, lingerMin: 16}, h.commit)
	defer g.close()
	for _, item := range []string{"a", "b", "c"} {
		waitResult(t, g.submit(item, true))
		if b := h.next(t); !slices.Equal(b, []string{item}) {
			t.Fatalf("batch %v, want [%s]", b, item)
		}
	}
}

// A lingering batch commits when the linger ends, and close commits what
// is queued, lingering or not.
func TestGroupCommitLingerEnds(t *testing.T) {
	h := newHeldCommit()
	g := newGroupCommit(groupOptions{queue: 16, maxBatch: 16, linger: time.Millisecond, lingerMin: 16}, h.commit)
	first := g.submit("a", true)
	h.next(t)
	second := []<-chan error{g.submit("b", true), g.submit("c", true)}
	close(h.release)
	waitResult(t, first)
	h.next(t)
	for _, c := range second {
		waitResult(t, c)
	}
	waitResult(t, g.submit("d", true)) // after a batch of two: lingers 1 ms, then commits alone
	if b := h.next(t); !slices.Equal(b, []string{"d"}) {
		t.Fatalf("batch %v, want [d]", b)
	}

	g2 := newGroupCommit(groupOptions{queue: 16, maxBatch: 16, linger: time.Hour, lingerMin: 16}, func([]string) error { return nil })
	done := g2.submit("x", true)
	g2.close()
	waitResult(t, done)
	if err := <-g2.submit("y", true); err != errCommitClosed {
		t.Fatalf("submit after close: %v, want errCommitClosed", err)
	}
}
