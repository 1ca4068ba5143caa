// Package bench is `pycotr bench`: it measures this machine's figures for
// the network — proof-of-work, transaction intake over HTTP, the original
// API's compatibility path, block propagation, sync, NATS bytes per block,
// ledger look-ups and memory — each a rate or a ratio beside its target
// and the original's figure; on demand, the cost per node as the network
// grows to 48 nodes (scale). BENCHMARKS.md explains each method.
//
// Run runs the phases and returns a Report, which prints itself as the
// Markdown table or the JSON that BENCHMARKS.md records. The network
// phases start a local network in this process (an embedded NATS server,
// nodes from services, their HTTP APIs on 127.0.0.1:0) and drive it as a
// user would. The package is a tool, not part of a node: nothing imports
// it but cmd/pycotr, and it imports nats.go only through events.
package bench
