package httpapi

import (
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
)

// Node is everything the HTTP API needs from a node; *services.Node
// satisfies it.
type Node interface {
	ID() string
	Name() string
	PublicURL() string

	// Chain is used for read-only queries only; writes go through SubmitTx
	// so that they are relayed.
	Chain() *chain.Chain
	// SubmitTx validates a transaction, admits it to the mempool and
	// relays it; the error wraps a *chain.RuleError.
	SubmitTx(tx *chain.Tx) error

	MinerAddress() chain.Address
	StartMining()
	StopMining()
	Mining() bool
	SetPause(d time.Duration) error
	SetHashRate(hashesPerSecond float64) error
	HashRateLimit() float64
	Pause() time.Duration
	MinerMode() services.MinerMode
	HashRate() float64
	Hashes() uint64

	Peers() []services.NodeState
	PeerURLs() []string
	RegisterPeerURL(u string)
	SourceChainID() string

	Subscribe(buf int) (<-chan services.Event, func())
	Stats() *services.Stats
	Ready() (bool, string)
	State() services.NodeState
}

var _ Node = (*services.Node)(nil)
