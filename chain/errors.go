package chain

import "errors"

// ErrorKind groups rule errors by what the caller should tell a client.
type ErrorKind int

const (
	// KindMalformed: the input cannot be decoded or is structurally wrong.
	KindMalformed ErrorKind = iota + 1
	// KindInvalid: well-formed, but breaks a consensus or policy rule.
	KindInvalid
	// KindConflict: valid on its own, but conflicts with what is already
	// known (a replayed id, a double spend, a duplicate block).
	KindConflict
	// KindUnavailable: the node cannot take it now (a full mempool).
	KindUnavailable
)

// RuleError is a named rule violation. Every rule has one exported value;
// errors returned by this package wrap one of them, so
// errors.Is(err, chain.ErrBadMerkleRoot) works at any depth.
type RuleError struct {
	Code string    // stable, machine-readable name, e.g. "bad-merkle-root"
	Kind ErrorKind // how a transport should report it
	Msg  string    // human description
}

func (e *RuleError) Error() string { return e.Msg }

func rule(code string, kind ErrorKind, msg string) *RuleError {
	return &RuleError{Code: code, Kind: kind, Msg: msg}
}

// AsRuleError returns the rule error wrapped in err, if any.
func AsRuleError(err error) (*RuleError, bool) {
	var re *RuleError
	ok := errors.As(err, &re)
	return re, ok
}

// Key and signature rules.
var (
	ErrBadAddress    = rule("bad-address", KindMalformed, "address is not hex DER of an RSA public key")
	ErrWeakKey       = rule("weak-key", KindInvalid, "RSA key shorter than 1024 bits")
	ErrBadKey        = rule("bad-key", KindInvalid, "RSA key longer than 4096 bits or with a public exponent other than 65537")
	ErrBadPrivateKey = rule("bad-private-key", KindMalformed, "private key is not hex DER PKCS#1 RSA")
	ErrBadSignature  = rule("bad-signature", KindInvalid, "signature does not verify for the sender's key")
	ErrSigEncoding   = rule("bad-signature-encoding", KindMalformed, "signature is not hex")
)

// Transaction rules.
var (
	ErrUnknownTxType    = rule("unknown-tx-type", KindMalformed, "unknown transaction type")
	ErrBadTxID          = rule("bad-tx-id", KindMalformed, "transaction id is not a lowercase canonical UUID")
	ErrBadAmount        = rule("bad-amount", KindInvalid, "amount must be positive")
	ErrBadFee           = rule("bad-fee", KindInvalid, "fee must not be negative")
	ErrAmountOverflow   = rule("amount-overflow", KindInvalid, "amount plus fee overflows")
	ErrSelfTransfer     = rule("self-transfer", KindInvalid, "transfer to the sender itself")
	ErrMintNotToSelf    = rule("mint-not-to-self", KindInvalid, "a card purchase must credit its own wallet (from == to)")
	ErrMissingCard      = rule("missing-card", KindMalformed, "card purchase without card data")
	ErrUnexpectedCard   = rule("unexpected-card", KindMalformed, "card data on a transaction that is not a card purchase")
	ErrBadCardNumber    = rule("bad-card-number", KindInvalid, "card number fails the Luhn check")
	ErrBadCardData      = rule("bad-card-data", KindMalformed, "card data is malformed")
	ErrCardExpired      = rule("card-expired", KindInvalid, "card expired before the block's time")
	ErrRewardSigned     = rule("reward-signed", KindInvalid, "a reward must be unsigned, without sender and fee")
	ErrInsufficientFund = rule("insufficient-funds", KindConflict, "balance does not cover amount plus fee (including pending spends)")
	ErrDuplicateTx      = rule("duplicate-tx", KindConflict, "the sender's transaction id is already on the chain")
	ErrAlreadyPending   = rule("already-pending", KindConflict, "the sender's transaction id is already in the mempool")
	ErrTxTooLarge       = rule("tx-too-large", KindInvalid, "transaction larger than the limit")
	ErrMempoolFull      = rule("mempool-full", KindUnavailable, "mempool full: it takes new transactions again once blocks confirm pending ones")
	ErrRewardInMempool  = rule("reward-in-mempool", KindInvalid, "reward transactions are only valid inside blocks")
)

// Block rules.
var (
	ErrBadVersion       = rule("bad-version", KindInvalid, "unsupported block version")
	ErrBadPoW           = rule("bad-pow", KindInvalid, "block hash does not meet its difficulty")
	ErrLowBits          = rule("low-bits", KindInvalid, "difficulty bits below the network's minimum")
	ErrBadBits          = rule("bad-bits", KindInvalid, "difficulty bits differ from the rule's answer")
	ErrBadMerkleRoot    = rule("bad-merkle-root", KindInvalid, "merkle root does not match the transactions")
	ErrBadPrevHash      = rule("bad-prev-hash", KindInvalid, "previous hash does not name the parent")
	ErrBadHeight        = rule("bad-height", KindInvalid, "height is not the parent's plus one")
	ErrTimeTooNew       = rule("time-too-new", KindInvalid, "timestamp too far in the future")
	ErrTimeTooOld       = rule("time-too-old", KindInvalid, "timestamp not after the median of the last 11 blocks")
	ErrNoCoinbase       = rule("no-coinbase", KindInvalid, "first transaction is not a reward")
	ErrExtraCoinbase    = rule("extra-coinbase", KindInvalid, "more than one reward in a block")
	ErrBadReward        = rule("bad-reward", KindInvalid, "reward differs from block reward plus fees")
	ErrBadRewardID      = rule("bad-reward-id", KindInvalid, "reward id is not the one derived from the block's height and previous hash")
	ErrTooManyTxs       = rule("too-many-txs", KindInvalid, "block holds more transactions than allowed")
	ErrBlockTooLarge    = rule("block-too-large", KindInvalid, "block larger than allowed")
	ErrDuplicateInBlock = rule("duplicate-in-block", KindInvalid, "a sender's transaction id appears twice in the block")
	ErrBadHash          = rule("bad-hash", KindMalformed, "stated block hash does not match the header")
	ErrBadGenesis       = rule("bad-genesis", KindInvalid, "block at height 0 is not this network's genesis")
	ErrDuplicateBlock   = rule("duplicate-block", KindConflict, "block already known")
	ErrKnownInvalid     = rule("known-invalid", KindInvalid, "block descends from a block known to be invalid")
	ErrMalformedBlock   = rule("malformed-block", KindMalformed, "block cannot be decoded")
	ErrMalformedTx      = rule("malformed-tx", KindMalformed, "transaction cannot be decoded")
)
