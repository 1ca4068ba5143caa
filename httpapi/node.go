package httpapi

import (
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// What the HTTP API needs from a node, declared here, by the consumer, as
// small interfaces (Config names one of each). *services.Node is a Node;
// its Chain(), Miner() and Peers() are a ChainReader, MinerControls and a
// PeerDirectory. Nothing here can write to the chain except SubmitTx.

// Identity is who the node is and what it says of itself.
type Identity interface {
	ID() string
	Name() string
	PublicURL() string
	// SourceChainID is the id of the node whose chain this one adopted last.
	SourceChainID() string
	// State is the node's self-description (rendered as stateView).
	State() services.NodeState
}

// Health is the node's readiness and its counters.
type Health interface {
	// Ready reports whether the node is connected and synced, and if not, why.
	Ready() (bool, string)
	// Stats is a snapshot of the node's counters.
	Stats() services.Stats
}

// TxSubmitter is the one way in for a transaction.
type TxSubmitter interface {
	// SubmitTx validates a transaction, admits it to the mempool and
	// relays it; the error wraps a *chain.RuleError.
	SubmitTx(tx *chain.Tx) error
	// SubmitTxs is SubmitTx for several, in order, made safe together:
	// one error per transaction, nil for those accepted.
	SubmitTxs(txs []*chain.Tx) []error
}

// EventFeed is the node's live events.
type EventFeed interface {
	// Subscribe returns a feed that the node closes when the subscriber
	// falls buf events behind; call the function to unsubscribe.
	Subscribe(buf int) (<-chan services.Event, func())
}

// Node is the node itself, as the API sees it.
type Node interface {
	Identity
	Health
	TxSubmitter
	EventFeed
}

// ChainReader is the chain queries the API makes: reads only.
type ChainReader interface {
	Params() chain.Params
	GenesisHash() chain.Hash
	Tip() chain.Tip
	Height() uint64
	NextBits() uint32
	BlocksToRetarget() uint64

	Blocks(from uint64, limit int) []*chain.Block
	BlockAt(height uint64) (*chain.Block, bool)
	BlockByHash(h chain.Hash) (b *chain.Block, onMain bool, ok bool)
	FindTx(id string) (chain.Tx, chain.TxState, chain.TxLocation)
	FindTxFrom(from chain.Address, id string) (chain.Tx, chain.TxState, chain.TxLocation)

	Pending() []chain.Tx
	MempoolStats() (count, bytes int)
	// MempoolVersion changes whenever the mempool does and never repeats
	// (a key of the whole-chain answers' cache).
	MempoolVersion() uint64

	CheckedBalance(a chain.Address) (int64, error)
	Spendable(a chain.Address) int64
	Recipients() []chain.Address
}

// MinerControls are the miner's run-time controls and gauges.
type MinerControls interface {
	Start()
	Stop()
	Mining() bool
	Pause() time.Duration
	SetPause(d time.Duration) error
	HashRateLimit() float64
	SetHashRate(hashesPerSecond float64) error
	Mode() miner.Mode
	Address() chain.Address
	HashRate() float64
	Hashes() uint64
}

// PeerDirectory is what the node knows of its peers.
type PeerDirectory interface {
	// List is the live peers found by presence, sorted by name.
	List() []services.NodeState
	// URLs is the peers' public URLs, registered ones included.
	URLs() []string
	// Register records a URL given through a registration route.
	Register(url string)
}
