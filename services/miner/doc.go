// Package miner is a node's mining loop: it waits as its mode says (paced,
// poisson or race), asks for a block template on the best tip, solves its
// proof-of-work at an optional hash-rate limit, and hands the solved block
// to Submit; a new tip while solving aborts the solve and starts again on
// the new tip.
//
// The miner depends on behaviour, not on a node: a Config of function
// fields (Template, TipChanged, Submit), as btcd's cpuminer takes
// ProcessBlock. It imports chain only; a test drives it with fakes and a
// fake clock (testing/synctest).
package miner
