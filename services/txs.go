package services

import (
	"errors"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// Transaction intake: a client's (SubmitTx), a peer's relay (onTx) and a
// peer's inventory (inventory.go) all admit through the chain's AcceptTx;
// what is admitted is persisted when the node has a data directory.

// Errors SubmitTx returns when it cannot make a transaction safe. Both are
// KindUnavailable (HTTP 503): try again later.
var (
	// ErrNotConnected: a node without a data directory is not connected
	// to NATS, so nothing could outlive it; the transaction was not
	// admitted and nothing changed.
	ErrNotConnected = &chain.RuleError{Code: "not-connected", Kind: chain.KindUnavailable,
		Msg: "node not connected to NATS and without a data directory: it cannot keep a transaction safe now"}
	// ErrNotAcknowledged: the transaction was admitted here, but neither
	// the disk nor the NATS server confirmed it in time. It may still be
	// mined: look it up by id before sending it again.
	ErrNotAcknowledged = &chain.RuleError{Code: "not-acknowledged", Kind: chain.KindUnavailable,
		Msg: "transaction admitted but not made durable in time (no fsync, no NATS flush): look it up by id before resending"}
)

// relayTimeout bounds the wait for the NATS server's acknowledgement of a
// relay (the shared flush).
const relayTimeout = 2 * time.Second

// The group commits of intake: pending transactions to disk, and relays
// to the NATS server (published together, then a flush: a round trip to
// the server). An fdatasync costs this machine about 0.14 ms of CPU (0.1
// in the process, the rest in the kernel's threads) and 0.2–0.8 ms of
// wall time, so at saturation a batch of whatever arrived during the
// last sync (3 to 6 transactions in `pycotr bench`) paid 25–45 µs a
// transaction, and the idle time around each sync cost more. Under load
// a small disk batch therefore lingers (groupCommit) up to 2 ms for up to
// 64: 20–27 transactions a sync in the bench, its data-directory intake
// ratio from 0.65–0.74 to 0.78–0.87 (BENCHMARKS.md); 5 ms and 128 gained
// nothing more and slowed a lightly loaded node. A lone caller never
// waits. A queue's buffer is allocated whole and scanned by every GC
// cycle (16 B a slot for the relays: 1 MiB at 65 536, which 48 nodes in
// one process made 48 MiB), so the relays' holds 4 096; beyond that,
// callers wait (back-pressure), none is dropped.
var (
	txlogCommit = groupOptions{queue: 8192, maxBatch: 4096, linger: 2 * time.Millisecond, lingerMin: 64}
	relayCommit = groupOptions{queue: 4096, maxBatch: 4096}
)

// SubmitTx is transaction intake from a client: validate, admit to the
// mempool, publish on <prefix>.tx, and return only once the transaction
// is safe from this process's death:
//
//   - with a data directory, it is on disk (an fsync shared by every
//     transaction submitted meanwhile: group commit), and
//   - when connected, the NATS server has the relay (a flush, also
//     shared): every connected node will receive it.
//
// Either suffices; both are awaited when both apply. Without a data
// directory and without NATS nothing could keep it, so it is refused
// (ErrNotConnected) before anything changes. The error wraps the chain
// rule that failed.
func (n *Node) SubmitTx(tx *chain.Tx) error {
	return n.SubmitTxs([]*chain.Tx{tx})[0]
}

// SubmitTxs is SubmitTx for several transactions at once, each judged on
// its own and in order (a later one may spend what an earlier one
// brought): it returns one error per transaction, nil for those accepted.
// The accepted ones are made safe together, sharing their fsync and their
// flush, so the call waits about as long as one SubmitTx.
func (n *Node) SubmitTxs(txs []*chain.Tx) []error {
	errs := make([]error, len(txs))
	if n.txlog == nil && !n.natsConnected() {
		for i := range txs {
			n.stats.txReject(ErrNotConnected.Code)
			errs[i] = ErrNotConnected
		}
		return errs
	}
	type pending struct {
		i               int
		onDisk, relayed <-chan error
	}
	var waits []pending
	for i, tx := range txs {
		if err := n.chain.AcceptTx(tx); err != nil {
			n.stats.txReject(reason(err))
			errs[i] = err
			continue
		}
		n.stats.txAccept("local")
		n.emit(Event{Kind: EventTx, Tx: tx})
		p := pending{i: i}
		if n.txlog != nil {
			p.onDisk = n.txlog.add(tx, true)
		}
		if n.natsConnected() {
			p.relayed = n.relay.submit(tx, true) // published with the others waiting, then flushed
		} else if n.bus != nil {
			// Disconnected: nats.go buffers it for the reconnect; the disk
			// keeps it meanwhile, and inventory exchange spreads it later.
			_ = n.bus.PublishTx(tx)
		}
		waits = append(waits, p)
	}
	for _, p := range waits {
		tx := txs[p.i]
		safe := false
		if p.onDisk != nil {
			if err := <-p.onDisk; err != nil {
				n.log.Error("persist transaction", "id", tx.ID, "err", err)
			} else {
				safe = true
			}
		}
		if p.relayed != nil {
			if err := <-p.relayed; err != nil {
				n.stats.relayUnacked.Add(1)
				n.log.Warn("relay not acknowledged by NATS", "id", tx.ID, "err", err)
			} else {
				safe = true
			}
		}
		if !safe {
			errs[p.i] = ErrNotAcknowledged
		}
	}
	return errs
}

// onTx is relay receive: a transaction another node accepted.
func (n *Node) onTx(from string, tx *chain.Tx) {
	if n.chain.HasTxFrom(tx.From, tx.ID) {
		return // already pending or confirmed: the common case, not an error
	}
	n.admitRelayed(from, tx, "relay")
}

// admitRelayed admits a transaction a peer sent (source: "relay" or
// "inventory") and stores it without waiting for the disk: the peer that
// accepted it answered for it. It returns the chain's verdict.
func (n *Node) admitRelayed(from string, tx *chain.Tx, source string) error {
	if err := n.chain.AcceptTx(tx); err != nil {
		if !errors.Is(err, chain.ErrAlreadyPending) && !errors.Is(err, chain.ErrDuplicateTx) {
			n.stats.txReject(reason(err))
			n.log.Debug("relayed transaction rejected", "from", from, "id", tx.ID, "source", source, "err", err)
		}
		return err
	}
	n.stats.txAccept(source)
	n.emit(Event{Kind: EventTx, Tx: tx})
	if n.txlog != nil {
		n.txlog.add(tx, false)
	}
	return nil
}

// reason is the metrics label for an error: its rule code, or "other".
func reason(err error) string {
	if re, ok := chain.AsRuleError(err); ok {
		return re.Code
	}
	return "other"
}
