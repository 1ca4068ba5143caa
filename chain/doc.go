// Package chain is Pycotr's domain: keys and signatures, transactions,
// blocks and their canonical encoding, proof-of-work, the validation rules,
// the ledger of balances, the block tree with fork choice and reorgs, and
// the mempool.
//
// It is pure: it performs no I/O and imports nothing of NATS or HTTP. The
// transport packages (events, services, httpapi) call into it; it never
// calls out. Its one entry point for a block is Chain.ProcessBlock and for a
// transaction Chain.AcceptTx; both return values that say what happened.
package chain
