// Package services is a Pycotr node's behaviour: transaction intake and
// relay, block intake and announcement, chain sync by block locator,
// consensus by scatter-gather, presence, and the miner. A Node wires one
// chain, one NATS bus and its configuration, and owns every goroutine it
// starts; a Cluster runs several nodes on one embedded NATS server.
//
// It imports chain, genesis and events; it knows nothing of HTTP.
package services
