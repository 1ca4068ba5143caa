// Package services is a Pycotr node's behaviour. A Node wires one chain,
// one NATS bus, a miner (package services/miner) and its configuration,
// and owns every goroutine it starts; a Cluster runs several nodes on one
// embedded NATS server. Files are named after what they hold:
//
//   - node.go: the wiring, Start and Close, and the Node's small surface;
//   - txs.go: transaction intake (SubmitTx: answered once safe) and relay
//     receive;
//   - inventory.go: the mempool inventory exchange that makes pools
//     converge, and its endpoints (.inv, .txs);
//   - commit.go: group commit, one flush or fsync shared by many waiters;
//   - blocks.go: block intake and the one entry point, processBlock, for
//     announced, synced and mined blocks;
//   - sync.go: the syncer, chain sync by block locator in pages, and
//     backoff.go, how long a peer that failed waits;
//   - consensus.go: how a node learns of a better chain: a round asking
//     every node (scatter-gather) at start and on reconnect, a periodic
//     check of a few random peers;
//   - presence.go: presence beats (an interval that grows with the
//     network, a network-wide budget) and the peer table's updates;
//   - peers.go: the peer directory (Peers);
//   - endpoints.go: the micro service's request-reply answers;
//   - persist.go, store.go: the data directory (bbolt) and its writer;
//   - txlog.go: the mempool on disk (mempool.log) and its restore;
//   - feed.go, stats.go: live events and counters.
//
// It imports chain, genesis and events; it knows nothing of HTTP.
package services
