// Package httpapi is a node's HTTP face: the original Pycotr routes kept
// for the existing frontend (compat.go), the /api/v1 REST API (v1.go), the
// server-sent event stream (sse.go), Prometheus metrics (metrics.go),
// health probes (health.go) and the HTTP server with its timeouts and
// graceful shutdown (server.go).
//
// It talks to a node only through the small interfaces it declares in
// node.go (Node, ChainReader, MinerControls, PeerDirectory): reads, miner
// controls, and SubmitTx as the one write. It imports chain (for types and
// rule errors) and services (for the node's types), and renders its own
// views (views.go), never a NATS wire message; it never reaches NATS or
// the chain's internals. Handlers parse input, call the
// node, render output: one table (problem.go) maps chain rule errors to
// HTTP statuses, and internal errors are never shown to clients.
package httpapi
