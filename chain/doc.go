// Package chain is Pycotr's domain: keys and signatures, transactions,
// blocks and their canonical encoding, proof-of-work, the validation rules,
// the ledger of balances, the block tree with fork choice and reorgs, and
// the mempool.
//
// It is pure: it performs no I/O and imports nothing of NATS or HTTP. The
// transport packages (events, services, httpapi) call into it; it never
// calls out. Its one entry point for a block is Chain.ProcessBlock and for a
// transaction Chain.AcceptTx; both return values that say what happened.
//
// The speed behind two rules lives apart, in chain/internal: powsearch is
// the proof-of-work search (SHA-256 midstate, the SHA-NI assembly loop),
// rsaverify the signature check with each key's modulus kept, and its key
// cache; generations is the bounded map both caches use. This package
// reads as the rules; tests build blocks and transactions with
// chain/chaintest.
//
// # Errors
//
// Every rule a block, a transaction, a key or a signature can break is
// one exported *RuleError value (errors.go): ErrBadMerkleRoot,
// ErrInsufficientFund, ErrBadSignature and the rest, each with a stable
// Code ("bad-merkle-root") and a Kind. Errors from this package wrap that
// value with context (the block or transaction). To ask whether a
// particular rule was broken, at any depth of wrapping, use errors.Is:
//
//	if errors.Is(err, chain.ErrDuplicateTx) {
//		// already known: not an error for a relay
//	}
//
// To decide what to tell a client, take the rule with AsRuleError (or
// errors.As with a *RuleError) and branch on its Kind; its Code is the
// machine-readable name to report:
//
//	if re, ok := chain.AsRuleError(err); ok {
//		switch re.Kind {
//		case chain.KindMalformed: // 400, re.Code
//		case chain.KindConflict: // 409
//		}
//	}
//
// The kinds:
//
//   - KindMalformed: the input cannot be decoded or is structurally wrong
//     (ErrMalformedBlock, ErrBadTxID, ErrSigEncoding…): a bad request.
//   - KindInvalid: well-formed, but breaks a consensus or policy rule
//     (ErrBadPoW, ErrBadSignature, ErrTimeTooNew…): unprocessable; a peer
//     that sends it is misbehaving.
//   - KindConflict: valid on its own, but conflicts with what is already
//     known (ErrDuplicateTx, ErrAlreadyPending, ErrInsufficientFund,
//     ErrDuplicateBlock): a conflict, often harmless between peers.
//   - KindUnavailable: the node cannot take it now (ErrMempoolFull): try
//     again later.
//
// An error that wraps no *RuleError (ErrNonceSpaceExhausted from the
// miner, a cancelled context) is not a verdict on the input.
package chain
