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
//
// What a hostile client could make the node spend is bounded: bodies
// (body.go), the keys it signs with and the funds checked before it signs
// (compat_keys.go, compat_tx.go), key generations at once (keygen.go),
// event streams at once (sse.go), the whole-chain answers encoded once per
// change (compat_chain.go); the admin token guards the miner controls and
// key generation (auth.go), and CORS lets in the node's and its peers'
// origins by default (cors.go).
package httpapi
