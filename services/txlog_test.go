package services

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/testkit"
)

// writeAtLogEnd writes data after the log's last record (where the zeros
// begin), as an append would.
func writeAtLogEnd(t *testing.T, dir string, data []byte) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, txLogName))
	if err != nil {
		t.Fatal(err)
	}
	end := 0
	for end+8 <= len(b) && binary.BigEndian.Uint32(b[end:]) != 0 {
		end += 8 + int(binary.BigEndian.Uint32(b[end:]))
	}
	f, err := os.OpenFile(filepath.Join(dir, txLogName), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, int64(end)); err != nil {
		t.Fatal(err)
	}
}

// TestTxLogTornTail: a crash in the middle of an append leaves a partial
// record; reading stops there, with every whole record before it.
func TestTxLogTornTail(t *testing.T) {
	dir := t.TempDir()
	var pool []chain.Tx
	l, err := openTxLog(dir, func() []chain.Tx { return pool }, func() int { return len(pool) }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		tx := chaintest.Mint(t, testKey(t, i), 10, 0)
		if err := <-l.add(&tx, true); err != nil {
			t.Fatal(err)
		}
		pool = append(pool, tx)
	}
	dup := pool[0]
	<-l.add(&dup, true) // stored twice (a rewrite raced an append): read once
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	writeAtLogEnd(t, dir, []byte{0, 0, 1, 0, 1, 2, 3}) // a record cut short
	got, torn, err := readTxLog(dir)
	if err != nil || !torn || len(got) != 3 {
		t.Fatalf("read %d transactions, torn %v, err %v; want 3, true, nil", len(got), torn, err)
	}
	for i := range got {
		if got[i].Hash() != pool[i].Hash() {
			t.Errorf("record %d is %s, want %s", i, got[i].ID, pool[i].ID)
		}
	}
}

// TestTxLogGrowsAhead: the file is extended in the background before the
// records reach its end, so no commit waits for an extension; every
// record reads back.
func TestTxLogGrowsAhead(t *testing.T) {
	dir := t.TempDir()
	l, err := openTxLog(dir, func() []chain.Tx { return nil }, func() int { return 0 }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500 // of about 8 KB: 1.5 steps
	sig := strings.Repeat("ab", 4000)
	for i := range n {
		tx := chain.Tx{Type: chain.TxTransfer, ID: fmt.Sprintf("t%04d", i), From: "ab", To: "cd", Amount: 1, Signature: sig}
		if err := <-l.add(&tx, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	if l.syncGrows != 0 {
		t.Errorf("%d commits waited for an extension of the file", l.syncGrows)
	}
	if l.size < l.end || l.size%txLogStep != 0 || l.end < txLogStep {
		t.Errorf("records end at %d, file size %d: want past one step of %d, within the file", l.end, l.size, txLogStep)
	}
	st, err := os.Stat(filepath.Join(dir, txLogName))
	if err != nil || st.Size() != l.size {
		t.Errorf("file size %v (%v), want %d", st.Size(), err, l.size)
	}
	got, torn, err := readTxLog(dir)
	if err != nil || torn || len(got) != n {
		t.Fatalf("read %d, torn %v, err %v; want %d, false, nil", len(got), torn, err, n)
	}
	for i := range got {
		if want := fmt.Sprintf("t%04d", i); got[i].ID != want {
			t.Fatalf("record %d is %s, want %s", i, got[i].ID, want)
		}
	}
}

// TestTxLogRewritesWhenLong: the log is rewritten with the pool once it
// holds more than twice the pool plus the slack.
func TestTxLogRewritesWhenLong(t *testing.T) {
	dir := t.TempDir()
	var pool []chain.Tx
	l, err := openTxLog(dir, func() []chain.Tx { return pool }, func() int { return len(pool) }, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	tx := chaintest.Mint(t, testKey(t, 1), 10, 0)
	for range 2 * txLogSlack {
		l.add(&tx, false)
	}
	<-l.add(&tx, true)
	records := l.records
	if records > txLogSlack {
		t.Errorf("%d records: never rewritten", records)
	}
	l.close()
	if got, _, err := readTxLog(dir); err != nil || len(got) != 1 {
		t.Errorf("read back %d distinct transactions (%v), want 1", len(got), err)
	}
}

// TestMempoolSurvivesRestart: with a data directory, the pending
// transactions are restored at start and re-checked against the restored
// tip: a confirmed one and one that no longer fits are dropped and
// counted, the rest are pending again.
func TestMempoolSurvivesRestart(t *testing.T) {
	testkit.CheckGoroutines(t)
	dir := t.TempDir()
	g := testGenesis(t, 8)
	srv := startServer(t, events.ServerConfig{})
	cfg := testNodeConfig(t, 0, g)
	cfg.Embedded, cfg.DataDir = srv, dir

	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	mined := fund(t, n, testKey(t, 5), 50)
	n.Miner().Start()
	testkit.Eventually(t, 10*time.Second, "the first purchase mined", func() bool { return n.Chain().Balance(mined.To) == 50 })
	n.Miner().Stop()
	var kept []chain.Tx
	for i := 6; i < 9; i++ {
		kept = append(kept, fund(t, n, testKey(t, i), 10))
	}
	spend, err := chain.NewTransfer(testKey(t, 5), chain.AddressOf(&testKey(t, 6).PublicKey), 1, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.SubmitTx(&spend); err != nil {
		t.Fatal(err)
	}
	kept = append(kept, spend)
	// Five submissions, each waited for: five records, one sync each (a
	// lone caller never lingers for company).
	if s := n.Stats(); s.LogRecords != 5 || s.LogSyncs != 5 {
		t.Errorf("mempool.log: %d records in %d syncs, want 5 in 5", s.LogRecords, s.LogSyncs)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	// A transaction stored but no longer valid: it spends more than the
	// wallet holds (written by hand: the node would not have admitted it).
	over, err := chain.NewTransfer(testKey(t, 5), chain.AddressOf(&testKey(t, 7).PublicKey), 1000, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	buf, _ := appendRecords(nil, []chain.Tx{over})
	writeAtLogEnd(t, dir, buf)

	again, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for _, tx := range kept {
		if _, st, _ := again.Chain().FindTx(tx.ID); st != chain.TxPending {
			t.Errorf("%s not pending after the restart", tx.ID)
		}
	}
	if c, _ := again.Chain().MempoolStats(); c != len(kept) {
		t.Errorf("%d pending after the restart, want %d", c, len(kept))
	}
	s := again.Stats()
	if s.PoolRestored != uint64(len(kept)) || s.RestoreDrops["confirmed"] != 1 || s.RestoreDrops[chain.ErrInsufficientFund.Code] != 1 {
		t.Errorf("restored %d, dropped %v; want %d restored, 1 confirmed and 1 insufficient-funds dropped", s.PoolRestored, s.RestoreDrops, len(kept))
	}
	// The log was rewritten with the pool: nothing is dropped twice.
	if got, _, _ := readTxLog(dir); len(got) != len(kept) {
		t.Errorf("the log holds %d transactions after the restart, want %d", len(got), len(kept))
	}
}
