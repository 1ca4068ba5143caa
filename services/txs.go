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

// The group commits of intake: pending transactions to disk (an fdatasync
// costs about 0.2 ms here) and relays to the NATS server (a flush, a
// round trip to it). Under load a small batch lingers about one disk
// commit for more (groupCommit); 16 transactions a batch already make the
// commit's cost a few percent of theirs.
var (
	txlogCommit = groupOptions{queue: 8192, maxBatch: 4096, linger: 300 * time.Microsecond, lingerMin: 16}
	flushCommit = groupOptions{queue: 1 << 16, maxBatch: 1 << 16, linger: 0, lingerMin: 16}
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
	if n.txlog == nil && !n.natsConnected() {
		n.stats.txReject(ErrNotConnected.Code)
		return ErrNotConnected
	}
	if err := n.chain.AcceptTx(tx); err != nil {
		n.stats.txReject(reason(err))
		return err
	}
	n.stats.txAccept("local")
	n.emit(Event{Kind: EventTx, Tx: tx})
	var onDisk, relayed <-chan error
	if n.txlog != nil {
		onDisk = n.txlog.add(tx, true)
	}
	if n.natsConnected() {
		if err := n.bus.PublishTx(tx); err != nil {
			n.log.Warn("relay transaction", "id", tx.ID, "err", err)
		} else {
			relayed = n.flush.submit(struct{}{}, true)
		}
	} else if n.bus != nil {
		// Disconnected: nats.go buffers it for the reconnect; the disk
		// keeps it meanwhile, and inventory exchange spreads it later.
		_ = n.bus.PublishTx(tx)
	}
	safe := false
	if onDisk != nil {
		if err := <-onDisk; err != nil {
			n.log.Error("persist transaction", "id", tx.ID, "err", err)
		} else {
			safe = true
		}
	}
	if relayed != nil {
		if err := <-relayed; err != nil {
			n.stats.relayUnacked.Add(1)
			n.log.Warn("relay not acknowledged by NATS", "id", tx.ID, "err", err)
		} else {
			safe = true
		}
	}
	if !safe {
		return ErrNotAcknowledged
	}
	return nil
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
