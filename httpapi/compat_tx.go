package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/pycotr/pycotr/chain"
)

// add_to_pending_transactions: the original's transaction intake, where the
// client sends its private key and the node signs (v1 clients sign
// themselves, see v1SubmitTx).

// compatTxID reads the original's optional transaction_id: any UUID form
// Python's uuid.UUID accepted, normalised to the canonical lowercase form.
func compatTxID(in args) (string, error) {
	s, ok, err := in.str("transaction_id")
	if err != nil || !ok || strings.TrimSpace(s) == "" {
		return "", err
	}
	id, err := uuid.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("transaction_id %q: %w", s, chain.ErrBadTxID)
	}
	return id.String(), nil
}

func (a *api) compatAddTx(w http.ResponseWriter, r *http.Request) error {
	in, err := readArgs(r)
	if err != nil {
		return err
	}
	tx, card, err := a.compatBuildTx(in)
	if err != nil {
		return err
	}
	if err := a.node.SubmitTx(&tx); err != nil {
		return err
	}
	msg := "Transaction added"
	if card {
		msg = "Credit Card Transaction added"
	}
	writeCompat(w, msg, map[string]any{"transaction_id": tx.ID, "amount": tx.Amount})
	return nil
}

// compatBuildTx builds and signs the transaction an add_to_pending_transactions
// body describes, with the sender's key the client sent (the original's
// contract; v1 clients sign themselves), parsed by the key ring. The
// signature is the costly step, so it comes last: after the key's bounds
// (keyRing.parse) and after checkBeforeSigning.
func (a *api) compatBuildTx(in args) (tx chain.Tx, card bool, err error) {
	if in == nil {
		return tx, false, newError(http.StatusBadRequest, codeMissingArgument, "a JSON request body is required")
	}
	from, err := in.requiredStr("from_address")
	if err != nil {
		return tx, false, err
	}
	to, err := in.requiredStr("to_address")
	if err != nil {
		return tx, false, err
	}
	keyHex, err := in.requiredStr("from_private_key")
	if err != nil {
		return tx, false, err
	}
	amount, err := in.requiredInt("amount")
	if err != nil {
		return tx, false, err
	}
	fee, _, err := in.integer("attached_fee")
	if err != nil {
		return tx, false, err
	}
	id, err := compatTxID(in)
	if err != nil {
		return tx, false, err
	}
	if card, err = in.boolean("is_credit_card"); err != nil {
		return tx, false, err
	}
	key, keyAddr, err := a.keys.parse(keyHex)
	if err != nil {
		return tx, false, err
	}
	if keyAddr != chain.Address(from) {
		return tx, false, newError(http.StatusUnprocessableEntity, codeKeyMismatch,
			"from_private_key is not the key of from_address")
	}
	if id == "" {
		id = chain.NewTxID()
	}
	if !card {
		// chain.NewTransfer, with the address the key ring already holds.
		tx = chain.Tx{Type: chain.TxTransfer, ID: id, From: keyAddr, To: chain.Address(to), Amount: amount, Fee: fee}
		if err := a.checkBeforeSigning(&tx); err != nil {
			return tx, false, err
		}
		a.signing()
		return tx, false, tx.Sign(key)
	}
	if to != from {
		return tx, true, fmt.Errorf("to_address differs from from_address: %w", chain.ErrMintNotToSelf)
	}
	ci, err := compatCard(in)
	if err != nil {
		return tx, true, err
	}
	c, err := chain.NewCard(ci)
	if err != nil {
		return tx, true, err
	}
	unsigned := chain.Tx{Type: chain.TxMint, ID: id, From: keyAddr, To: keyAddr, Amount: amount, Fee: fee}
	if err := a.checkBeforeSigning(&unsigned); err != nil {
		return unsigned, true, err
	}
	a.signing()
	tx, err = chain.NewMint(key, c, amount, fee, id)
	return tx, true, err
}

// checkBeforeSigning refuses, before the node spends an RSA signature on
// it, a transaction the chain would refuse for its amounts, its recipient
// or its sender's funds: the chain's own checks, in the chain's order
// (chain.AcceptTx makes them all again). Above all, a sender whose
// spendable balance (confirmed, less pending spends) does not cover
// amount plus fee (a card purchase: the fee) costs no signature.
func (a *api) checkBeforeSigning(tx *chain.Tx) error {
	switch {
	case tx.Amount <= 0:
		return fmt.Errorf("tx %s: %w", tx.ID, chain.ErrBadAmount)
	case tx.Fee < 0:
		return fmt.Errorf("tx %s: %w", tx.ID, chain.ErrBadFee)
	case tx.Amount > chain.MaxAmount || tx.Fee > chain.MaxAmount:
		return fmt.Errorf("tx %s: %w", tx.ID, chain.ErrAmountOverflow)
	}
	need := tx.Fee // both within MaxAmount (2^50): no overflow
	if tx.Type == chain.TxTransfer {
		if _, err := chain.ParseAddress(tx.To); err != nil {
			return fmt.Errorf("tx %s: to: %w", tx.ID, err)
		}
		if tx.From == tx.To {
			return fmt.Errorf("tx %s: %w", tx.ID, chain.ErrSelfTransfer)
		}
		need += tx.Amount
	}
	if need > 0 && a.chain.Spendable(tx.From) < need {
		return fmt.Errorf("tx %s: %w", tx.ID, chain.ErrInsufficientFund)
	}
	return nil
}

// signing is called before each signature the node makes for a client
// (a test counts them).
func (a *api) signing() {
	if a.hooks.sign != nil {
		a.hooks.sign()
	}
}

// compatCard reads the card fields of a card purchase.
func compatCard(in args) (chain.CardInput, error) {
	var ci chain.CardInput
	number, ok, err := in.digits("credit_card_cc_number")
	if err != nil {
		return ci, err
	}
	if !ok {
		return ci, missingArg("credit_card_cc_number")
	}
	expiry, err := in.requiredStr("credit_card_cc_date")
	if err != nil {
		return ci, err
	}
	if len(expiry) > 10 && expiry[10] == 'T' { // a Python datetime's isoformat
		expiry = expiry[:10]
	}
	cvv, ok, err := in.digits("credit_card_cc_pict")
	if err != nil {
		return ci, err
	}
	if !ok {
		return ci, missingArg("credit_card_cc_pict")
	}
	holder, _, err := in.str("credit_card_cc_name")
	if err != nil {
		return ci, err
	}
	return chain.CardInput{Number: number, Expiry: expiry, CVV: strings.TrimSpace(cvv), Holder: holder}, nil
}
