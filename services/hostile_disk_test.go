package services

import (
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

// TestHostileBlocksNeverReachTheDataDir (issue 14): 10 000 announced
// blocks of each hostile kind (bits 0 with an unknown parent; a low-work
// side branch forking at height 1) and junk sync pages (every page full of
// bits-0 blocks, "more": true) leave a node's data directory with exactly
// the blocks of its chain, its heap flat, and each junk sync ends at its
// first page instead of holding the node's one sync slot.
func TestHostileBlocksNeverReachTheDataDir(t *testing.T) {
	testkit.CheckGoroutines(t)
	dir := t.TempDir()
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	v := startNodes(t, srv, g, 1, func(_ int, c *Config) { c.DataDir = dir })[0]
	for range 3 {
		if _, err := v.processBlock(solveNext(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	p := g.Params
	fake := uuid.NewString()
	lowBits := func(i int) *chain.Block {
		return chain.NewBlock(chain.Header{Version: chain.BlockVersion, Height: 7, PrevHash: chain.Hash{1, byte(i), byte(i >> 8)},
			Timestamp: g.Block.Header.Timestamp + 1000, Nonce: uint64(i)}, v.Miner().Address(), p.Reward, nil)
	}
	// Junk sync pages: served to whoever asks, always "more".
	var served atomic.Int64
	nc := rawConn(t, srv)
	page := make([]chain.Block, 100)
	for i := range page {
		page[i] = *lowBits(i)
	}
	data, err := events.Encode(events.BlocksReply{Blocks: page, More: true, TipHeight: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	hdr := nats.Header{}
	hdr.Set(events.HeaderVersion, events.ProtocolVersion)
	hdr.Set(events.HeaderNode, fake)
	if _, err := nc.Subscribe("pycotr.node."+fake+".blocks", func(m *nats.Msg) {
		served.Add(1)
		m.RespondMsg(&nats.Msg{Header: hdr, Data: data})
	}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	side := chain.NewBlock(chain.Header{Version: chain.BlockVersion, Height: 1, PrevHash: g.Hash,
		Timestamp: g.Block.Header.Timestamp + 1000, Bits: p.Bits}, v.Miner().Address(), p.Reward, nil)
	for i := range 10_000 {
		v.onBlock(fake, lowBits(i))
		s := *side
		s.Header.Timestamp += int64(i)
		chaintest.Solve(t, &s)
		v.onBlock(fake, &s)
	}
	const syncs = 100 // 100 pages of 100 junk blocks
	for range syncs {
		v.sync.mu.Lock()
		_, err := v.sync.from(t.Context(), fake, nil)
		v.sync.mu.Unlock()
		if err == nil {
			t.Fatal("a junk sync page was accepted")
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap %+.1f MiB after 20 000 hostile blocks and %d junk sync pages; %d pages served", (float64(ms.HeapAlloc)-float64(before))/(1<<20), syncs, served.Load())
	if float64(ms.HeapAlloc)-float64(before) > 32<<20 {
		t.Errorf("heap grew by %d bytes", ms.HeapAlloc-before)
	}
	if n := served.Load(); n > 2*syncs+10 { // a page, and the next one prefetched
		t.Errorf("%d junk pages served for %d syncs: junk kept the sync going", n, syncs)
	}
	if v.Chain().Orphans() != 0 || v.Chain().Height() != 3 {
		t.Fatalf("orphans %d, height %d", v.Chain().Orphans(), v.Chain().Height())
	}
	v.Close()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored := 0
	if err := s.Blocks(func(*chain.Block) error { stored++; return nil }); err != nil {
		t.Fatal(err)
	}
	if stored != 3 {
		t.Fatalf("the data directory holds %d blocks, want the 3 of the chain", stored)
	}
}
