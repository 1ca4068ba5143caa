package services

import (
	"errors"

	"github.com/pycotr/pycotr/chain"
)

// SubmitTx is transaction intake from a client: validate, admit to the
// mempool, publish on <prefix>.tx. The error wraps the chain rule that
// failed; nothing changes on error.
func (n *Node) SubmitTx(tx *chain.Tx) error {
	if err := n.chain.AcceptTx(tx); err != nil {
		n.stats.txReject(reason(err))
		return err
	}
	n.stats.txAccept("local")
	n.emit(Event{Kind: EventTx, Tx: tx})
	if n.bus != nil {
		if err := n.bus.PublishTx(tx); err != nil {
			// Accepted here; peers will get it in a block or after reconnect.
			n.log.Warn("relay transaction", "id", tx.ID, "err", err)
		}
	}
	return nil
}

// onTx is relay receive: a transaction another node accepted.
func (n *Node) onTx(from string, tx *chain.Tx) {
	if n.chain.HasTxFrom(tx.From, tx.ID) {
		return // already pending or confirmed: the common case, not an error
	}
	if err := n.chain.AcceptTx(tx); err != nil {
		if !errors.Is(err, chain.ErrAlreadyPending) && !errors.Is(err, chain.ErrDuplicateTx) {
			n.stats.txReject(reason(err))
			n.log.Debug("relayed transaction rejected", "from", from, "id", tx.ID, "err", err)
		}
		return
	}
	n.stats.txAccept("relay")
	n.emit(Event{Kind: EventTx, Tx: tx})
}

// reason is the metrics label for an error: its rule code, or "other".
func reason(err error) string {
	if re, ok := chain.AsRuleError(err); ok {
		return re.Code
	}
	return "other"
}
