// Package events is everything NATS in Pycotr: the subject names, the
// message types and their strict JSON encoding, the Pycotr-Node and
// Pycotr-Version headers, the embedded NATS server, and a Bus that a node
// uses to publish, subscribe, serve its request-reply endpoints (a NATS
// micro service) and ask its peers. It knows nothing of HTTP, and it is the
// only package that imports nats.go and nats-server.
package events
