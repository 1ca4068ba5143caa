package events

import (
	"fmt"
	"strings"
)

// DefaultPrefix is the subject prefix of the default network.
const DefaultPrefix = "pycotr"

// Subject suffixes (DESIGN §5). Every subject is "<prefix>.<suffix>".
const (
	suffixTx        = "tx"        // publish: a transaction accepted into the sender's mempool
	suffixTxs       = "txs"       // publish: several, accepted together (a relay batch)
	suffixBlock     = "block"     // publish: a block the sender mined or adopted as tip
	suffixPresence  = "presence"  // publish every ~2 s (less often in a network of over 4 nodes): the sender's state
	suffixConsensus = "consensus" // request, every node replies with its tip
	suffixNode      = "node"      // "<prefix>.node.<id>.blocks" / ".info" / ".inv" / ".txs": request-reply
)

// Subjects builds the subject names for one prefix.
type Subjects struct{ Prefix string }

// NewSubjects checks a prefix: NATS tokens, no wildcards, no spaces.
func NewSubjects(prefix string) (Subjects, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	for _, tok := range strings.Split(prefix, ".") {
		if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
			return Subjects{}, fmt.Errorf("subject prefix %q: want dot-separated tokens without wildcards or spaces", prefix)
		}
	}
	return Subjects{Prefix: prefix}, nil
}

func (s Subjects) Tx() string        { return s.Prefix + "." + suffixTx }
func (s Subjects) Txs() string       { return s.Prefix + "." + suffixTxs }
func (s Subjects) Block() string     { return s.Prefix + "." + suffixBlock }
func (s Subjects) Presence() string  { return s.Prefix + "." + suffixPresence }
func (s Subjects) Consensus() string { return s.Prefix + "." + suffixConsensus }

// NodeGroup is the subject group of one node's request-reply endpoints.
func (s Subjects) NodeGroup(nodeID string) string { return s.Prefix + "." + suffixNode + "." + nodeID }

// NodeBlocks is where a node answers block-locator sync requests.
func (s Subjects) NodeBlocks(nodeID string) string { return s.NodeGroup(nodeID) + ".blocks" }

// NodeInfo is where a node answers with its description.
func (s Subjects) NodeInfo(nodeID string) string { return s.NodeGroup(nodeID) + ".info" }

// NodeInv is where a node answers with its mempool's inventory: a digest,
// and the hashes of its pending transactions in pages.
func (s Subjects) NodeInv(nodeID string) string { return s.NodeGroup(nodeID) + ".inv" }

// NodeTxs is where a node answers with pending transactions by hash.
func (s Subjects) NodeTxs(nodeID string) string { return s.NodeGroup(nodeID) + ".txs" }

// All is the wildcard for every subject of the network.
func (s Subjects) All() string { return s.Prefix + ".>" }
