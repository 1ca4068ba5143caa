package services

import "fmt"

// The mempool log's group commit is a pipeline of two goroutines, so that
// the next batch is written while the previous one syncs:
//
//   - the writer (a groupCommit) takes everything queued, writes it at the
//     log's end in one pwrite, and hands the batch to the syncer;
//   - the syncer takes every batch written meanwhile and makes them
//     durable with one fdatasync, then answers their waiters.
//
// A batch is answered only after an fdatasync that began after its write
// returned, so an answer still means "on disk", as before. Under load the
// syncer finds several written batches at once and one sync serves them
// all; the writer is at most one batch ahead (written holds one), which
// bounds what is written but not yet synced.

// logReq is one record to append; done, if set, gets its sync's result.
type logReq struct {
	rec  []byte
	done chan error
}

// writtenBatch is a batch the writer wrote (err: or failed to write).
type writtenBatch struct {
	waiters []chan error
	records int
	err     error
}

func (l *txLog) startCommit() {
	l.written = make(chan writtenBatch, 1)
	l.synced = make(chan struct{})
	l.commit = newGroupCommit(txlogQueue, txlogBatch, l.write)
	go l.syncLoop()
}

// write is the writer's step: one pwrite for the batch, then the batch
// goes to the syncer. It returns nil: the waiters are the syncer's.
func (l *txLog) write(reqs []logReq) error {
	buf := l.buf[:0]
	b := writtenBatch{records: len(reqs)}
	for _, r := range reqs {
		buf = append(buf, r.rec...)
		if r.done != nil {
			b.waiters = append(b.waiters, r.done)
		}
	}
	if cap(buf) <= 1<<20 {
		l.buf = buf // kept for the next batch, unless a burst made it large
	}
	b.err = l.writeAtEnd(buf)
	l.written <- b
	return nil
}

// writeAtEnd writes buf after the last record, growing the file first if
// needed.
func (l *txLog) writeAtEnd(buf []byte) error {
	l.fileMu.Lock()
	defer l.fileMu.Unlock()
	if need := l.end + int64(len(buf)); need > l.size { // grow by zeros, synced with the file's new size
		grow := (need-l.size)/txLogStep*txLogStep + txLogStep
		if _, err := l.f.WriteAt(make([]byte, grow), l.size); err != nil {
			return fmt.Errorf("mempool log: %w", err)
		}
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("mempool log: %w", err)
		}
		l.size += grow
	}
	if _, err := l.f.WriteAt(buf, l.end); err != nil {
		return fmt.Errorf("mempool log: %w", err)
	}
	l.end += int64(len(buf))
	return nil
}

// syncLoop is the syncer: one fdatasync for every batch written since
// the last, then their answers; and the log's rewrite when it has grown.
func (l *txLog) syncLoop() {
	defer close(l.synced)
	var batches []writtenBatch
	for b := range l.written {
		batches = append(batches[:0], b)
	more:
		for {
			select {
			case b, ok := <-l.written:
				if !ok {
					break more
				}
				batches = append(batches, b)
			default:
				break more
			}
		}
		// f changes only in rewrite, which runs on this goroutine, so it
		// is read here without fileMu. Every batch here was written
		// before this call.
		err := datasync(l.f)
		if err != nil {
			err = fmt.Errorf("mempool log: %w", err)
		}
		for _, b := range batches {
			if b.err == nil && err == nil {
				l.records += b.records
			}
		}
		if l.records > 2*l.count()+txLogSlack {
			l.fileMu.Lock()
			// What the writer wrote meanwhile to the old file, unsynced,
			// is pending in the pool (it was admitted before it was
			// queued), so the rewrite holds it and syncs it; its batch's
			// later fdatasync then finds nothing left to do.
			if err := l.rewrite(); err != nil {
				l.log.Error("rewrite mempool log", "err", err) // the appended file stays valid
			}
			l.fileMu.Unlock()
		}
		for _, b := range batches { // answered last, as the one-goroutine commit did
			e := b.err
			if e == nil {
				e = err
			}
			for _, w := range b.waiters {
				w <- e
			}
		}
		clear(batches)
	}
}
