package services

import (
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/events"
)

// wireCounter counts the bytes on the wire with a raw subscription on '>'
// that keeps '<prefix>.>' and '_INBOX.>' (the replies to consensus gathers
// and sync requests). Presence beats are left out: they are periodic, not
// caused by a block (and the test makes them rare). A message's bytes are
// its data plus its headers. One subscription, so one goroutine sees every
// message in the server's order (two subscriptions would each have their
// own, and a marker could overtake a large reply).
type wireCounter struct {
	nc      *nats.Conn
	marks   int
	prefix  string
	mu      sync.Mutex
	bytes   int
	msgs    []*nats.Msg
	exclude string
}

func newWireCounter(t *testing.T, nc *nats.Conn, prefix string) *wireCounter {
	t.Helper()
	w := &wireCounter{nc: nc, prefix: prefix + ".", exclude: prefix + ".presence"}
	sub, err := nc.Subscribe(">", w.add)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *wireCounter) add(m *nats.Msg) {
	if m.Subject == w.exclude || !strings.HasPrefix(m.Subject, w.prefix) && !strings.HasPrefix(m.Subject, "_INBOX.") {
		return
	}
	if strings.HasPrefix(m.Subject, "_INBOX.wire-mark.") {
		w.mu.Lock()
		w.msgs = append(w.msgs, m)
		w.mu.Unlock()
		return
	}
	n := len(m.Data)
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4 // "k: v\r\n"
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bytes += n
	w.msgs = append(w.msgs, m)
}

// reset zeroes the counter once everything sent before has been counted:
// a marker published on the counter's own connection comes back after
// every message the server delivered to it before.
func (w *wireCounter) reset(t *testing.T) {
	t.Helper()
	w.marks++
	mark := fmt.Sprintf("_INBOX.wire-mark.%d", w.marks)
	if err := w.nc.Publish(mark, nil); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "the wire counter catches up", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return slices.ContainsFunc(w.msgs, func(m *nats.Msg) bool { return m.Subject == mark })
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bytes, w.msgs = 0, nil
}

// answered reports whether every request seen on a subject starting with
// prefix has had at least want replies.
func (w *wireCounter) answered(subject string, want int) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	requests := 0
	for _, m := range w.msgs {
		if m.Subject != subject || m.Reply == "" {
			continue
		}
		requests++
		replies := 0
		for _, r := range w.msgs {
			if r.Subject == m.Reply {
				replies++
			}
		}
		if replies < want {
			return false
		}
	}
	return requests > 0
}

// carried reports whether a message on subject has been counted.
func (w *wireCounter) carried(subject string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.ContainsFunc(w.msgs, func(m *nats.Msg) bool { return m.Subject == subject })
}

func (w *wireCounter) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bytes
}

// TestLateNodeSyncsInPagesAndBlockCostIsFlat: a node started after the
// others have 1 000 blocks syncs them in pages without receiving any block
// twice, and the bytes one new block costs the network are the same at
// height 100 and at height 1 000.
//
// The cost of one block is measured on the wire (wireCounter) in the two
// ways a node learns of it, both from a peer that holds the whole chain:
//   - broadcast: the miner announces it on <prefix>.block (no consensus
//     round follows it since issue 19); the window ends when every node has
//     the block as tip and the counter has counted the announcement;
//   - sync: a peer that missed the announcement asks for the blocks after
//     its locator (one request, one reply); the window ends with the reply.
//
// The locator grows with log2(height), the rest does not grow at all.
func TestLateNodeSyncsInPagesAndBlockCostIsFlat(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	quiet := func(_ int, c *Config) {
		// Rare beats, rounds and inventory exchanges: what is measured is
		// caused by the block.
		c.PresenceInterval = time.Minute
		c.ConsensusInterval = time.Minute
		c.InventoryInterval = time.Minute
	}
	a := startNodeAt(t, srv, g, 0, quiet)
	extend(t, a, 99)
	b := startNodeAt(t, srv, g, 1, quiet)
	testkit.Eventually(t, 10*time.Second, "node 2 syncs 99 blocks", func() bool { return sameTip(a, b) })
	if r, n := b.Stats().SyncRedundant, b.Stats().SyncBlocks; r != 0 || n != 99 {
		t.Errorf("node 2 synced %d blocks, %d redundant; want 99 and 0", n, r)
	}

	wire := newWireCounter(t, rawConn(t, srv), "pycotr")
	cost := func() (broadcast, sync int) {
		t.Helper()
		wire.reset(t)
		blk := solveNext(t, a)
		a.submitMined(blk)
		testkit.Eventually(t, 10*time.Second, "the broadcast block is every tip and counted", func() bool {
			return sameTip(a, b) && b.Chain().Tip().Hash == blk.Hash() && wire.carried("pycotr.block")
		})
		broadcast = wire.total()

		wire.reset(t)
		extend(t, a, 1) // not announced: node 2 must sync it
		b.sync.request(a.ID(), nil)
		testkit.Eventually(t, 10*time.Second, "the block is synced", func() bool {
			return sameTip(a, b) && wire.answered("pycotr.node."+a.ID()+".blocks", 1)
		})
		return broadcast, wire.total()
	}
	bc100, sy100 := cost()
	h100 := a.Chain().Height()

	extend(t, a, 1000-int(a.Chain().Height()))
	b.sync.request(a.ID(), nil)
	testkit.Eventually(t, 20*time.Second, "node 2 at 1 000", func() bool { return sameTip(a, b) })
	bc1000, sy1000 := cost()
	h1000 := a.Chain().Height()
	t.Logf("one block at height %d: broadcast %d B, sync %d B; at height %d: broadcast %d B, sync %d B",
		h100, bc100, sy100, h1000, bc1000, sy1000)
	t100, t1000 := bc100+sy100, bc1000+sy1000
	if diff := float64(t1000-t100) / float64(t100); diff < -0.10 || diff > 0.10 {
		t.Errorf("one block costs %d B at height %d and %d B at %d: %.1f%% apart, want < 10%%",
			t100, h100, t1000, h1000, 100*diff)
	}
	if r := b.Stats().SyncRedundant; r != 0 {
		t.Errorf("node 2 received %d blocks it had", r)
	}

	// The late node: small pages, so the 1 000 blocks take several.
	late := startNodeAt(t, srv, g, 2, func(i int, c *Config) {
		quiet(i, c)
		c.SyncPageBytes = 64 << 10
	})
	height := a.Chain().Height()
	testkit.Eventually(t, 30*time.Second, "the late node syncs", func() bool { return sameTip(a, b, late) })
	st := late.Stats()
	t.Logf("late node: %d blocks in %d pages, %d bytes, %d redundant", st.SyncBlocks, st.SyncPages,
		st.SyncBytes, st.SyncRedundant)
	if st.SyncRedundant != 0 || st.SyncBlocks != height {
		t.Errorf("late node received %d blocks (%d it had); want exactly the %d it lacked",
			st.SyncBlocks, st.SyncRedundant, height)
	}
	if st.SyncPages < 3 {
		t.Errorf("late node synced in %d pages, want several", st.SyncPages)
	}
	checkLedgers(t, a, b, late)
}

// TestSyncContinuesABranchAcrossPages: a node syncing a competing branch
// longer than one page asks for each next page after the last block it
// received. (Before the fix, the locator named only its own best chain, so
// every page restarted at the fork point: the same blocks, page after
// page, until the page limit.)
//
// On a fork, a few blocks below the fork point can come twice: the locator
// is exponential, so the newest hash it shares with the peer may lie a step
// below the fork point (here: heights 15..6 then 4, the fork at 5), and
// the peer sends from there. That costs at most the locator's step at the
// fork's depth, once per sync, never per page.
func TestSyncContinuesABranchAcrossPages(t *testing.T) {
	testkit.CheckGoroutines(t)
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	nodes := startNodes(t, srv, g, 2, func(i int, c *Config) {
		c.PresenceInterval = time.Minute
		c.ConsensusInterval = time.Minute
		c.SyncPageBytes = 4 << 10 // a handful of blocks per page
	})
	a, b := nodes[0], nodes[1]
	extend(t, a, 5)
	b.sync.request(a.ID(), nil)
	testkit.Eventually(t, 10*time.Second, "shared prefix", func() bool { return sameTip(a, b) })
	extend(t, b, 10) // b's branch: 10 blocks
	extend(t, a, 60) // a's branch: 60 blocks, many pages
	before := b.Stats().SyncBlocks
	b.sync.request(a.ID(), nil)
	testkit.Eventually(t, 20*time.Second, "b adopts a's longer branch", func() bool { return sameTip(a, b) })
	got, redundant := b.Stats().SyncBlocks-before, b.Stats().SyncRedundant
	t.Logf("synced %d blocks (%d already held) in %d pages", got, redundant, b.Stats().SyncPages)
	if got-redundant != 60 || redundant > 2 {
		t.Errorf("synced %d blocks, %d already held, for a 60-block branch forking 10 blocks deep; "+
			"want 60 new and at most the locator's step (2) again", got, redundant)
	}
	if b.Stats().Reorgs != 1 {
		t.Errorf("reorgs: %d, want 1", b.Stats().Reorgs)
	}
	checkLedgers(t, a, b)
}

// TestSyncRequestsAreASet: a burst of requests for one peer cannot crowd
// out a request for another (the former 64-slot channel dropped them).
func TestSyncRequestsAreASet(t *testing.T) {
	s := newSyncer(nil, nil, new(counters), slog.New(slog.DiscardHandler), 0, time.Second, nil)
	for range 1000 {
		s.request("peer-a", nil)
	}
	s.request("peer-b", nil)
	s.request("peer-a", nil)
	var got []string
	for c, ok := s.next(); ok; c, ok = s.next() {
		got = append(got, c.peer)
	}
	if len(got) != 2 || got[0] != "peer-a" || got[1] != "peer-b" {
		t.Errorf("queued %v, want [peer-a peer-b]", got)
	}
}
