package chain

import (
	"container/heap"
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
	size int
	seq  uint64 // arrival order
	idx  int    // position in the eviction heap
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
// ordered by fee, then arrival, and bounded in count and bytes by evicting
// the cheapest. It is not safe for concurrent use: Chain guards it.
type Mempool struct {
	limits  MempoolLimits
	entries map[txKey]*poolEntry
	byID    map[string][]*poolEntry // the entries of each id, for look-ups
	pending map[Address]int64       // each sender's pending debits
	bytes   int
	seq     uint64
	cheap   evictHeap
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
// uniqueness; it checks funds and room, evicting cheaper entries if needed.
func (m *Mempool) add(l *Ledger, tx *Tx) error { return m.admit(l, tx, false) }

// readd re-admits, after a reorg, a transaction the node had already
// accepted (pending, or in a dropped block): funds are checked against the
// new tip, but not room. An accepted transaction is never lost to a reorg;
// the pool may exceed its bounds by the dropped blocks' transactions until
// blocks drain it, and admits nothing new meanwhile.
func (m *Mempool) readd(l *Ledger, tx *Tx) error { return m.admit(l, tx, true) }

func (m *Mempool) admit(l *Ledger, tx *Tx, overBounds bool) error {
	if d := tx.debit(); d > 0 && m.spendable(l, tx.From) < d {
		return ErrInsufficientFund
	}
	size := tx.Size()
	if size > m.limits.MaxBytes && !overBounds {
		return ErrTxTooLarge
	}
	// Make room by evicting strictly cheaper entries.
	var evict []*poolEntry
	count, bytes := len(m.entries)+1, m.bytes+size
	for i := 0; !overBounds && (count > m.limits.MaxTxs || bytes > m.limits.MaxBytes); i++ {
		e := m.cheap.nth(i)
		if e == nil || e.tx.Fee >= tx.Fee {
			return ErrMempoolFull
		}
		evict = append(evict, e)
		count--
		bytes -= e.size
	}
	for _, e := range evict {
		m.remove(keyOf(&e.tx))
	}
	m.seq++
	e := &poolEntry{tx: *tx, size: size, seq: m.seq}
	m.entries[keyOf(tx)] = e
	m.byID[tx.ID] = append(m.byID[tx.ID], e)
	if d := tx.debit(); d != 0 {
		m.pending[tx.From] += d
	}
	m.bytes += size
	heap.Push(&m.cheap, e)
	m.changed()
	return nil
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
	heap.Remove(&m.cheap, e.idx)
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

// evictHeap orders entries cheapest first: lowest fee, then newest.
type evictHeap []*poolEntry

func (h evictHeap) Len() int { return len(h) }
func (h evictHeap) Less(i, j int) bool {
	if h[i].tx.Fee != h[j].tx.Fee {
		return h[i].tx.Fee < h[j].tx.Fee
	}
	return h[i].seq > h[j].seq
}
func (h evictHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx = i
	h[j].idx = j
}
func (h *evictHeap) Push(x any) {
	e := x.(*poolEntry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *evictHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}

// nth returns the i-th cheapest entry (0 = the root); beyond the root it
// walks a copy, which only happens when several evictions are needed.
func (h evictHeap) nth(i int) *poolEntry {
	if i >= len(h) {
		return nil
	}
	if i == 0 {
		return h[0]
	}
	c := make(evictHeap, len(h))
	copy(c, h)
	idx := make([]int, len(h))
	for k, e := range h {
		idx[k] = e.idx
	}
	defer func() { // restore the indexes the copy's pops disturbed
		for k, e := range h {
			e.idx = idx[k]
		}
	}()
	var e *poolEntry
	for k := 0; k <= i; k++ {
		e = heap.Pop(&c).(*poolEntry)
	}
	return e
}
