package services

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pycotr/pycotr/events"
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
