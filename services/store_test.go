package services

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

func TestDataDirSurvivesRestart(t *testing.T) {
	testkit.CheckGoroutines(t)
	dir := t.TempDir()
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	cfg := testNodeConfig(t, 0, g)
	cfg.Embedded, cfg.DataDir = srv, dir
	cfg.Miner.Pause = 20 * time.Millisecond
	cfg.Miner.Autostart = true

	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	tx := fund(t, n, testKey(t, 6), 77)
	testkit.Eventually(t, 10*time.Second, "ten blocks and the purchase mined", func() bool {
		return n.Chain().Height() >= 10 && n.Chain().Balance(tx.To) == 77
	})
	n.Close()
	id, tip := n.ID(), n.Chain().Tip()

	cfg.Miner.Autostart = false
	cfg.NodeKey = nil // the stored identity wins
	again, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.ID() != id {
		t.Fatalf("node id %s after restart, want %s", again.ID(), id)
	}
	if derived := events.NodeIDOf(again.id.PublicKey()); derived != id {
		t.Fatalf("node id %s is not derived from its key (%s)", id, derived)
	}
	if got := again.Chain().Tip(); got.Hash != tip.Hash || got.Height != tip.Height {
		t.Fatalf("tip %s@%d after restart, want %s@%d", got.Hash.Short(), got.Height, tip.Hash.Short(), tip.Height)
	}
	if again.Chain().Balance(tx.To) != 77 {
		t.Fatal("balance lost across restart")
	}
	if err := again.Chain().CheckInvariant(); err != nil {
		t.Fatal(err)
	}
}

func TestDataDirOfAnotherNetworkIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := testNodeConfig(t, 0, testGenesis(t, 8))
	cfg.DataDir = dir
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	other := testNodeConfig(t, 0, testGenesis(t, 9))
	other.DataDir = dir
	if _, err := New(other); err == nil {
		t.Fatal("a store made for another genesis was opened")
	}
}

func TestGarbageStoreFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	cfg := testNodeConfig(t, 0, testGenesis(t, 8))
	cfg.DataDir = dir
	if err := os.WriteFile(filepath.Join(dir, "pycotr.db"), []byte("not a bolt file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg); err == nil {
		t.Fatal("a garbage store file opened without error")
	}
}

// TestNodeIDIsDerivedFromItsKey: without a data directory a node has a new
// key each start, with a given one its id follows from it.
func TestNodeIDIsDerivedFromItsKey(t *testing.T) {
	cfg := testNodeConfig(t, 0, testGenesis(t, 8))
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() == b.ID() || a.ID() != events.NodeIDOf(a.id.PublicKey()) {
		t.Errorf("in-memory ids %s, %s: want two different ids derived from their keys", a.ID(), b.ID())
	}
	cfg.NodeKey = a.id.Key()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID() != a.ID() {
		t.Errorf("the same key gave %s, then %s", a.ID(), c.ID())
	}
	if c.State().ChainID != c.ID() || c.SourceChainID() != c.ID() {
		t.Errorf("chain id %s, source %s, want the node id %s", c.State().ChainID, c.SourceChainID(), c.ID())
	}
}

// TestStoreFromBeforeKeysGetsAKeyDerivedID: a data directory that holds a
// random node id and no key (protocol version 1) gets a key; the id derived
// from it replaces the old one, once, and is logged.
func TestStoreFromBeforeKeysGetsAKeyDerivedID(t *testing.T) {
	dir := t.TempDir()
	g := testGenesis(t, 8)
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	const old = "0b9b7f6e-1c43-4c4e-9d0e-5f8a5b1d2c3e"
	if err := st.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if err := m.Put(keyGenesis, []byte(g.Hash.String())); err != nil {
			return err
		}
		return m.Put(keyNodeID, []byte(old))
	}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var logs strings.Builder
	cfg := testNodeConfig(t, 0, g)
	cfg.DataDir = dir
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := n.ID()
	n.Close()
	if id == old || id != events.NodeIDOf(n.id.PublicKey()) {
		t.Fatalf("id %s after upgrade, want one derived from a new key (old %s)", id, old)
	}
	if !strings.Contains(logs.String(), "node id replaced") || !strings.Contains(logs.String(), old) {
		t.Errorf("the replacement was not logged:\n%s", logs.String())
	}
	logs.Reset()
	again, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.ID() != id {
		t.Errorf("id %s on the next start, want %s", again.ID(), id)
	}
	if strings.Contains(logs.String(), "node id replaced") {
		t.Error("the replacement was logged again")
	}
}
