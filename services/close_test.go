package services

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

// TestCloseWhileBlocksArrive: a node closed while a publisher floods
// pycotr.block drains first — the handlers already running finish before
// its store closes — so no handler panics (a block handed to a closed
// persister would), nothing is dropped, and the store holds every block
// the node accepted.
func TestCloseWhileBlocksArrive(t *testing.T) {
	testkit.CheckGoroutines(t)
	const count = 400
	g := testGenesis(t, 8)
	c, err := g.NewChain(chain.Config{})
	if err != nil {
		t.Fatal(err)
	}
	blocks := make([][]byte, count)
	for i := range blocks {
		b := c.Template(chain.AddressOf(&testKey(t, 5).PublicKey))
		var m chain.Miner
		if b.Header, err = m.Solve(context.Background(), b.Header); err != nil {
			t.Fatal(err)
		}
		if _, err := c.ProcessBlock(b); err != nil {
			t.Fatal(err)
		}
		if blocks[i], err = events.Encode(events.BlockMessage{Block: *b, Hash: b.Hash()}); err != nil {
			t.Fatal(err)
		}
	}

	srv := startServer(t, events.ServerConfig{Listen: "127.0.0.1:0"})
	dir := t.TempDir()
	v := startNodeAt(t, srv, g, 0, func(_ int, c *Config) { c.DataDir = dir })

	nc := rawConn(t, srv)
	h := nats.Header{}
	h.Set(events.HeaderVersion, events.ProtocolVersion)
	h.Set(events.HeaderNode, uuid.NewString())
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, data := range blocks {
			if err := nc.PublishMsg(&nats.Msg{Subject: "pycotr.block", Header: h, Data: data}); err != nil {
				return
			}
		}
		_ = nc.Flush()
	})
	testkit.Eventually(t, 10*time.Second, "blocks arrive", func() bool { return v.Chain().Height() >= 20 })
	if err := v.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	wg.Wait()

	height := v.Chain().Height()
	st := v.Stats()
	t.Logf("closed at height %d of %d; drops %v, rejected %v", height, count, st.NATSDrops, st.BlocksRejected)
	for reason, n := range st.NATSDrops {
		t.Errorf("%d messages dropped (%s)", n, reason)
	}
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored := 0
	if err := s.Blocks(func(*chain.Block) error { stored++; return nil }); err != nil {
		t.Fatal(err)
	}
	if uint64(stored) != height {
		t.Errorf("store holds %d blocks, the node accepted %d", stored, height)
	}
}
