package services

import (
	"context"
	"crypto/rsa"
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/services/miner"
)

// testGenesis is a network with low difficulty so tests mine instantly.
func testGenesis(t testing.TB, bits uint32) *genesis.File {
	t.Helper()
	return chaintest.Genesis(t, chaintest.Params(bits))
}

// testNodeConfig is a node config for tests: fast beats, mining off.
func testNodeConfig(t testing.TB, i int, g *genesis.File) Config {
	return Config{
		Name:              fmt.Sprintf("node-%d", i+1),
		PublicURL:         fmt.Sprintf("http://127.0.0.1:%d", 3001+i),
		MinerKey:          testKey(t, i),
		Genesis:           g,
		PresenceInterval:  100 * time.Millisecond,
		ConsensusInterval: time.Second,
		GatherStall:       100 * time.Millisecond,
		InventoryInterval: 250 * time.Millisecond,
		Miner:             miner.Settings{Mode: miner.ModePaced, Pause: 100 * time.Millisecond},
	}
}

// startServer starts an embedded NATS server for a test.
func startServer(t testing.TB, cfg events.ServerConfig) *events.Server {
	t.Helper()
	srv, err := events.StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// startNode starts a node and closes it at the end of the test.
func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

func fund(t testing.TB, n *Node, k *rsa.PrivateKey, amount int64) chain.Tx {
	t.Helper()
	tx := chaintest.Mint(t, k, amount, 0)
	if err := n.SubmitTx(&tx); err != nil {
		t.Fatal(err)
	}
	return tx
}

// startNodes starts count nodes on srv, node i configured by
// testNodeConfig(i) then mutate (if not nil).
func startNodes(t testing.TB, srv *events.Server, g *genesis.File, count int, mutate func(i int, c *Config)) []*Node {
	t.Helper()
	var nodes []*Node
	for i := range count {
		cfg := testNodeConfig(t, i, g)
		cfg.Embedded = srv
		if mutate != nil {
			mutate(i, &cfg)
		}
		nodes = append(nodes, startNode(t, cfg))
	}
	return nodes
}

// startNodeAt starts the node testNodeConfig(i) configures, then mutate.
func startNodeAt(t testing.TB, srv *events.Server, g *genesis.File, i int, mutate func(i int, c *Config)) *Node {
	t.Helper()
	cfg := testNodeConfig(t, i, g)
	cfg.Embedded = srv
	if mutate != nil {
		mutate(i, &cfg)
	}
	return startNode(t, cfg)
}

// rawConn is a plain NATS connection, as a hostile or curious client has.
func rawConn(t testing.TB, srv *events.Server) *nats.Conn {
	t.Helper()
	if srv.ClientURL() == "" {
		t.Fatal("raw connections need a server with a Listen address")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// solveNext builds and solves the next block on n's best tip, paying n's
// miner, without processing it.
func solveNext(t testing.TB, n *Node) *chain.Block {
	t.Helper()
	return chaintest.Solve(t, n.Chain().Template(n.Miner().Address()))
}

// extend adds count blocks to n's chain directly (no announcement): a fast
// way to build a long history.
func extend(t testing.TB, n *Node, count int) {
	t.Helper()
	for range count {
		if _, err := n.Chain().ProcessBlock(solveNext(t, n)); err != nil {
			t.Fatal(err)
		}
	}
}

// sameTip reports whether every node has the same best tip.
func sameTip(nodes ...*Node) bool {
	tip := nodes[0].Chain().Tip().Hash
	for _, n := range nodes[1:] {
		if n.Chain().Tip().Hash != tip {
			return false
		}
	}
	return true
}

// checkLedgers asserts the ledger invariant and an exact rebuild on each
// node.
func checkLedgers(t testing.TB, nodes ...*Node) {
	t.Helper()
	for _, n := range nodes {
		if err := n.Chain().CheckInvariant(); err != nil {
			t.Errorf("%s: %v", n.Name(), err)
		}
		if eq, err := n.Chain().RebuildLedger(); err != nil || !eq {
			t.Errorf("%s: rebuilt ledger differs (%v)", n.Name(), err)
		}
	}
}

// testKey returns one of the test binary's 1024-bit keys.
func testKey(_ testing.TB, i int) *rsa.PrivateKey { return testkit.Key(i) }

// waitEvent reads a node feed until an event satisfies want.
func waitEvent(t testing.TB, ch <-chan Event, within time.Duration, what string, want func(Event) bool) Event {
	t.Helper()
	return testkit.Receive(t, ch, within, what, want)
}

// newIdentity is a node identity for a raw connection that plays a node.
func newIdentity(t testing.TB) *events.Identity {
	t.Helper()
	id, err := events.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// signedHeader is the headers of a message of kind signed by id, as a
// node sends them.
func signedHeader(id *events.Identity, kind string, data []byte) nats.Header {
	h := nats.Header{}
	h.Set(events.HeaderVersion, events.ProtocolVersion)
	id.Sign(h, kind, data)
	return h
}
