package chain

import (
	"slices"
	"sync/atomic"
)

// MempoolLimits bound the pool of unconfirmed transactions.
type MempoolLimits struct {
	MaxTxs   int // 0 = 100 000
	MaxBytes int // as Tx.Size counts; 0 = 64 MiB
}

// poolEntry is one pending transaction.
type poolEntry struct {
	tx   Tx
	hash Hash // Tx.Hash: what peers compare pools by
	size int
	seq  uint64 // arrival order
}

// txKey names a transaction as the uniqueness rule does: ids are unique
// per sender ("" for a reward), not across senders.
type txKey struct {
	from Address
	id   string
}

func keyOf(tx *Tx) txKey { return txKey{from: tx.From, id: tx.ID} }

// Mempool holds transactions valid against the tip plus what is already
// pending: each sender's pending debits never exceed its confirmed balance,
// so any subset of the pool, in any order, is a valid block body. It is
// ordered by fee, then arrival, and bounded in count and bytes: a full
// pool refuses newcomers (ErrMempoolFull) and never evicts a transaction
// it accepted, so an accepted transaction leaves it only in a block, or
// when a block makes it invalid (its sender's funds spent elsewhere). It
// is not safe for concurrent use: Chain guards it.
type Mempool struct {
	limits  MempoolLimits
	entries map[txKey]*poolEntry
	byID    map[string][]*poolEntry // the entries of each id, for look-ups
	pending map[Address]int64       // each sender's pending debits
	bytes   int
	seq     uint64
	digest  Hash   // XOR of the entries' hashes: equal pools have equal digests
	version uint64 // see changed
}

// poolVersions numbers every state of every mempool in the process: a
// pool made anew (after a reorg) or changed takes the next number, so a
// version is never seen twice and caches of the pool's views may key on
// it (Chain.MempoolVersion).
var poolVersions atomic.Uint64

// changed gives the pool a new version; every change to its entries calls it.
func (m *Mempool) changed() { m.version = poolVersions.Add(1) }

func newMempool(l MempoolLimits) *Mempool {
	if l.MaxTxs <= 0 {
		l.MaxTxs = 100_000
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 64 << 20
	}
	m := &Mempool{limits: l, entries: make(map[txKey]*poolEntry), byID: make(map[string][]*poolEntry),
		pending: make(map[Address]int64)}
	m.changed()
	return m
}

// Len is the number of pending transactions; Bytes their total size.
func (m *Mempool) Len() int   { return len(m.entries) }
func (m *Mempool) Bytes() int { return m.bytes }

func (m *Mempool) has(k txKey) bool { _, ok := m.entries[k]; return ok }

// spendable is what a sender may still commit: balance less pending debits.
func (m *Mempool) spendable(l *Ledger, a Address) int64 { return l.Balance(a) - m.pending[a] }

// add admits a transaction already checked for form, signature, time and
// uniqueness (hash is its Tx.Hash); it checks funds and room.
func (m *Mempool) add(l *Ledger, tx *Tx, hash Hash) error { return m.admit(l, tx, hash, false) }

// readd re-admits, after a reorg, a transaction the node had already
// accepted (pending, or in a dropped block): funds are checked against the
// new tip, but not room. An accepted transaction is never lost to a reorg;
// the pool may exceed its bounds by the dropped blocks' transactions until
// blocks drain it, and admits nothing new meanwhile.
func (m *Mempool) readd(l *Ledger, tx *Tx) error { return m.admit(l, tx, tx.Hash(), true) }

func (m *Mempool) admit(l *Ledger, tx *Tx, hash Hash, overBounds bool) error {
	if d := tx.debit(); d > 0 && m.spendable(l, tx.From) < d {
		return ErrInsufficientFund
	}
	size := tx.Size()
	if size > m.limits.MaxBytes && !overBounds {
		return ErrTxTooLarge
	}
	if !overBounds && (len(m.entries)+1 > m.limits.MaxTxs || m.bytes+size > m.limits.MaxBytes) {
		return ErrMempoolFull
	}
	m.seq++
	e := &poolEntry{tx: *tx, hash: hash, size: size, seq: m.seq}
	m.entries[keyOf(tx)] = e
	m.byID[tx.ID] = append(m.byID[tx.ID], e)
	if d := tx.debit(); d != 0 {
		m.pending[tx.From] += d
	}
	m.bytes += size
	m.digest = xorHash(m.digest, hash)
	m.changed()
	return nil
}

func xorHash(a, b Hash) Hash {
	for i := range a {
		a[i] ^= b[i]
	}
	return a
}

func (m *Mempool) remove(k txKey) (*poolEntry, bool) {
	e, ok := m.entries[k]
	if !ok {
		return nil, false
	}
	delete(m.entries, k)
	if same := slices.DeleteFunc(m.byID[k.id], func(o *poolEntry) bool { return o == e }); len(same) == 0 {
		delete(m.byID, k.id)
	} else {
		m.byID[k.id] = same
	}
	m.bytes -= e.size
	if d := e.tx.debit(); d != 0 {
		if m.pending[e.tx.From] -= d; m.pending[e.tx.From] == 0 {
			delete(m.pending, e.tx.From)
		}
	}
	m.digest = xorHash(m.digest, e.hash)
	m.changed()
	return e, true
}

// byPriority returns the entries highest fee first, then oldest first.
func (m *Mempool) byPriority() []*poolEntry {
	es := make([]*poolEntry, 0, len(m.entries))
	for _, e := range m.entries {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *poolEntry) int {
		if a.tx.Fee != b.tx.Fee {
			if a.tx.Fee > b.tx.Fee {
				return -1
			}
			return 1
		}
		if a.seq < b.seq {
			return -1
		}
		if a.seq > b.seq {
			return 1
		}
		return 0
	})
	return es
}

// byArrival returns the entries oldest first.
func (m *Mempool) byArrival() []*poolEntry {
	es := make([]*poolEntry, 0, len(m.entries))
	for _, e := range m.entries {
		es = append(es, e)
	}
	slices.SortFunc(es, func(a, b *poolEntry) int {
		if a.seq < b.seq {
			return -1
		}
		return 1
	})
	return es
}

// fitSenders drops, for each given sender whose pending debits now exceed
// its balance, its lowest-priority transactions until the rest fit. It
// returns the dropped transactions.
func (m *Mempool) fitSenders(l *Ledger, senders map[Address]struct{}) []Tx {
	var dropped []Tx
	for a := range senders {
		if m.spendable(l, a) >= 0 {
			continue
		}
		var mine []*poolEntry
		for _, e := range m.entries {
			if e.tx.From == a && e.tx.debit() > 0 {
				mine = append(mine, e)
			}
		}
		// Cheapest and newest first.
		slices.SortFunc(mine, func(x, y *poolEntry) int {
			if x.tx.Fee != y.tx.Fee {
				if x.tx.Fee < y.tx.Fee {
					return -1
				}
				return 1
			}
			if x.seq > y.seq {
				return -1
			}
			return 1
		})
		for _, e := range mine {
			if m.spendable(l, a) >= 0 {
				break
			}
			m.remove(keyOf(&e.tx))
			dropped = append(dropped, e.tx)
		}
	}
	return dropped
}
