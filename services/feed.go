package services

import (
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
)

// EventKind names what happened on a node.
type EventKind string

const (
	EventTx       EventKind = "tx"        // a transaction entered the mempool
	EventBlock    EventKind = "block"     // the best chain grew or switched
	EventReorg    EventKind = "reorg"     // the best chain switched branches
	EventPeerUp   EventKind = "peer-up"   // a peer appeared
	EventPeerDown EventKind = "peer-down" // a peer missed three beats or left

	// EventSideBlock: a valid block was stored beside the best chain, its
	// branch having no more work than the tip (on a tie, the block seen
	// first stays the tip: DESIGN §3). It joins the chain if its branch
	// later gains the most work (then a block event follows).
	EventSideBlock EventKind = "side-block"
)

// Event is one thing a node reports to live views. Only the fields of its
// kind are set.
type Event struct {
	Kind EventKind `json:"kind"`
	// Time is when it happened on the node (set when the node emits it):
	// for a block, when the node's chain connected it (or, for a
	// side-block, stored it); a subscriber that
	// reads the event later still knows when.
	Time time.Time `json:"time,omitzero"`

	Tx *chain.Tx `json:"tx,omitempty"`

	Hash   string `json:"hash,omitempty"`
	Height uint64 `json:"height,omitempty"`
	Miner  string `json:"miner,omitempty"`  // reward address
	Source string `json:"source,omitempty"` // node id it came from; own id if mined here
	Status string `json:"status,omitempty"` // extended | reorganized | side-branch
	Txs    int    `json:"txs,omitempty"`

	Depth    int      `json:"depth,omitempty"`
	Dropped  []string `json:"dropped,omitempty"`
	Added    []string `json:"added,omitempty"`
	Returned []string `json:"returned,omitempty"` // tx ids given back to the mempool (at most maxEventTxs)

	// A reorg's story, for the fork lab's narration (reorg.go).
	ForkHeight       uint64          `json:"fork_height,omitempty"`   // the last block both branches share
	DroppedMined     int             `json:"dropped_mined,omitempty"` // dropped blocks this node had mined
	ReturnedCount    int             `json:"returned_count,omitempty"`
	Conflicting      []ConflictingTx `json:"conflicting,omitempty"` // at most maxEventTxs
	ConflictingCount int             `json:"conflicting_count,omitempty"`

	Until time.Time `json:"until,omitzero"` // isolated: when the node rejoins

	Peer *events.NodeState `json:"peer,omitempty"`
}

// feed fans events out to subscribers without ever blocking the node: a
// subscriber whose buffer is full is dropped (its channel closed).
type feed struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func (f *feed) subscribe(buf int) (<-chan Event, func()) {
	ch := make(chan Event, buf)
	f.mu.Lock()
	if f.subs == nil {
		f.subs = make(map[chan Event]struct{})
	}
	f.subs[ch] = struct{}{}
	f.mu.Unlock()
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			delete(f.subs, ch)
			close(ch)
		}
	}
}

func (f *feed) publish(e Event) (dropped int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- e:
		default:
			delete(f.subs, ch)
			close(ch)
			dropped++
		}
	}
	return dropped
}

func (f *feed) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		close(ch)
	}
	f.subs = nil
}
