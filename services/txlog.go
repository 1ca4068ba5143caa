package services

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/pycotr/pycotr/chain"
)

// txLog keeps the mempool on disk, in the data directory's mempool.log: an
// append-only file of the transactions the node admitted, one record each
// (4-byte big-endian length, 4-byte CRC-32C, the transaction's JSON),
// followed by zeros: the file is extended ahead of the records in steps
// of txLogStep, so an append changes no file size and its fdatasync writes
// data blocks only (about half the cost of an append that grows the file).
// The next step is written and synced in the background once the records
// pass half of the last one, so no commit waits for it (8 MiB of zeros and
// an fsync: about 30 ms here) unless one batch outruns it.
// Admissions are group-committed: one write and one fdatasync for
// everything queued meanwhile, so a client's answer waits for its
// transaction's sync without each one paying a sync of its own (a bbolt
// commit costs 5 to 12 times more here: it writes several pages and syncs
// twice).
//
// Nothing is written when a transaction leaves the pool: at start every
// stored transaction is re-checked against the restored tip, and what a
// block confirmed or invalidated is dropped then. The file is rewritten
// with the pool's contents (a new file, synced, renamed over the old) at
// start and whenever it holds more than twice the pool plus
// txLogSlack records. A crash can tear only the last record, which no
// answer waited for; reading stops there, or at the first zero length.
type txLog struct {
	dir     string
	f       *os.File
	end     int64             // where the next record goes
	size    int64             // the file's size: records, then zeros
	records int               // in the file
	pool    func() []chain.Tx // the pending transactions now
	count   func() int        // how many
	stats   *counters         // syncs and records; nil in tests
	log     *slog.Logger
	// commit takes records already encoded by their submitters (add), on
	// their own goroutines: the group commit itself, which every waiter of
	// the batch waits for, only copies, writes and syncs.
	commit *groupCommit[[]byte]
	buf    []byte // the batch being written; only commit's goroutine uses it
	// grown yields the file's new size (or 0 after an error) when a
	// background extension ends; nil when none runs. Only commit's
	// goroutine (or rewrite and close, once it is stopped) touches it.
	grown     chan int64
	syncGrows int // extensions a commit waited for (tests)
}

const (
	txLogName  = "mempool.log"
	txLogSlack = 4096
	txLogMax   = 1 << 20 // bytes of one record: far above any valid transaction
	txLogStep  = 8 << 20 // the file grows by this much of zeros at a time
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// readTxLog reads the stored transactions in order, each hash once. torn
// is true if the file ends in a partial or damaged record.
func readTxLog(dir string) (txs []chain.Tx, torn bool, err error) {
	f, err := os.Open(filepath.Join(dir, txLogName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	seen := map[chain.Hash]bool{}
	var head [8]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return txs, err != io.EOF, nil
		}
		n := binary.BigEndian.Uint32(head[:4])
		if n == 0 {
			return txs, false, nil // the zeros after the last record
		}
		if n > txLogMax {
			return txs, true, nil
		}
		data := make([]byte, n)
		if _, err := io.ReadFull(r, data); err != nil || crc32.Checksum(data, crcTable) != binary.BigEndian.Uint32(head[4:]) {
			return txs, true, nil
		}
		var tx chain.Tx
		if err := json.Unmarshal(data, &tx); err != nil {
			return txs, true, nil
		}
		if h := tx.Hash(); !seen[h] {
			seen[h] = true
			txs = append(txs, tx)
		}
	}
}

// appendRecords encodes txs as records onto buf.
func appendRecords(buf []byte, txs []chain.Tx) ([]byte, error) {
	for i := range txs {
		var err error
		if buf, err = appendRecord(buf, &txs[i]); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// appendRecord encodes tx as one record onto buf.
func appendRecord(buf []byte, tx *chain.Tx) ([]byte, error) {
	data, err := json.Marshal(tx)
	if err != nil {
		return buf, err
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(data)))
	buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(data, crcTable))
	return append(buf, data...), nil
}

// openTxLog rewrites the log with the pool's transactions and opens it for
// appending; pool is read again at each later rewrite.
func openTxLog(dir string, pool func() []chain.Tx, count func() int, stats *counters, log *slog.Logger) (*txLog, error) {
	l := &txLog{dir: dir, pool: pool, count: count, stats: stats, log: log}
	if err := l.rewrite(); err != nil {
		return nil, err
	}
	l.commit = newGroupCommit(txlogCommit, l.append)
	return l, nil
}

// rewrite replaces the file by one holding the pool's transactions.
func (l *txLog) rewrite() error {
	l.waitGrow() // of the file being replaced
	txs := l.pool()
	buf, err := appendRecords(nil, txs)
	if err != nil {
		return err
	}
	path := filepath.Join(l.dir, txLogName)
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("mempool log: %w", err)
	}
	size := (int64(len(buf))/txLogStep + 1) * txLogStep
	if _, err := f.Write(append(buf, make([]byte, size-int64(len(buf)))...)); err != nil {
		f.Close()
		return fmt.Errorf("mempool log: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("mempool log: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		f.Close()
		return fmt.Errorf("mempool log: %w", err)
	}
	if d, err := os.Open(l.dir); err == nil { // make the rename durable
		_ = d.Sync()
		d.Close()
	}
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.end, l.size, l.records = f, int64(len(buf)), size, len(txs)
	return nil
}

// append is the group commit: one write and one fsync for the batch of
// encoded records.
func (l *txLog) append(records [][]byte) error {
	buf := l.buf[:0]
	for _, r := range records {
		buf = append(buf, r...)
	}
	if cap(buf) <= 1<<20 {
		l.buf = buf // kept for the next batch, unless a burst made it large
	}
	need := l.end + int64(len(buf))
	if need > l.size {
		l.waitGrow() // a background step may be about to cover it
	} else {
		l.pollGrow()
	}
	if need > l.size { // grow by zeros, synced with the file's new size
		if err := l.growTo(need); err != nil {
			return err
		}
	}
	if _, err := l.f.WriteAt(buf, l.end); err != nil {
		return fmt.Errorf("mempool log: %w", err)
	}
	if err := datasync(l.f); err != nil {
		return fmt.Errorf("mempool log: %w", err)
	}
	l.end += int64(len(buf))
	l.records += len(records)
	if l.stats != nil {
		l.stats.logSyncs.Add(1)
		l.stats.logRecords.Add(uint64(len(records)))
	}
	if l.grown == nil && l.size-l.end < txLogStep/2 {
		l.growAhead()
	}
	if l.records > 2*l.count()+txLogSlack {
		if err := l.rewrite(); err != nil {
			l.log.Error("rewrite mempool log", "err", err) // the appended file stays valid
		}
	}
	return nil
}

// growTo extends the file with zeros (and syncs it) to hold need bytes.
func (l *txLog) growTo(need int64) error {
	l.syncGrows++
	grow := (need-l.size)/txLogStep*txLogStep + txLogStep
	if err := extendZeros(l.f, l.size, grow); err != nil {
		return err
	}
	l.size += grow
	return nil
}

// extendZeros writes n zero bytes at off and syncs the file, its new size
// included.
func extendZeros(f *os.File, off, n int64) error {
	if _, err := f.WriteAt(make([]byte, n), off); err != nil {
		return fmt.Errorf("mempool log: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("mempool log: %w", err)
	}
	return nil
}

// growAhead extends the file by one step in the background; pollGrow or
// waitGrow takes the new size. Appends meanwhile write below the old size
// only, so they never overlap the zeros being written.
func (l *txLog) growAhead() {
	f, from, grown := l.f, l.size, make(chan int64, 1)
	l.grown = grown
	go func() {
		if err := extendZeros(f, from, txLogStep); err != nil {
			l.log.Warn("extend mempool log ahead", "err", err) // the next append that needs it tries again
			grown <- 0
			return
		}
		grown <- from + txLogStep
	}()
}

// pollGrow takes the result of a background extension that has ended.
func (l *txLog) pollGrow() {
	select {
	case size := <-l.grown:
		l.tookGrow(size)
	default:
	}
}

// waitGrow waits for a background extension, if one runs.
func (l *txLog) waitGrow() {
	if l.grown != nil {
		l.tookGrow(<-l.grown)
	}
}

func (l *txLog) tookGrow(size int64) {
	l.grown = nil
	l.size = max(l.size, size)
}

// add stores tx; if wait, the channel yields the result of its fsync. The
// record is encoded here, on the caller's goroutine.
func (l *txLog) add(tx *chain.Tx, wait bool) <-chan error {
	rec, err := appendRecord(nil, tx)
	if err != nil {
		l.log.Error("encode mempool record", "id", tx.ID, "err", err)
		if !wait {
			return nil
		}
		done := make(chan error, 1)
		done <- fmt.Errorf("mempool log: %w", err)
		return done
	}
	return l.commit.submit(rec, wait)
}

// close writes what is queued and closes the file.
func (l *txLog) close() error {
	l.commit.close()
	l.waitGrow()
	return l.f.Close()
}
