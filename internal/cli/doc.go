// Package cli is pycotr's wallet and explorer: the `pycotr wallet …`,
// `chain`, `block`, `tx` and `mempool` commands. They talk to a running
// node over its /api/v1 REST API (Client), keep keys in the wallet file
// (internal/wallet), sign locally with chain's constructors (chain.NewTransfer,
// chain.NewMint) and print readable tables, or JSON with --json.
//
// cmd/pycotr dispatches to RunWallet, RunChain, RunBlock, RunTx and RunMempool; they return
// a UsageError for a bad command line (exit 2), flag.ErrHelp once help is
// printed (exit 0), and any other error as one line (exit 1). A private key
// is printed by `wallet export` and nowhere else.
//
// It imports chain and internal/wallet and internal/wait; never httpapi or
// services (it is their client, over HTTP, like any other).
package cli
