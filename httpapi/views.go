package httpapi

import (
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
)

// The API's own JSON shapes for what the node describes, copied field by
// field from the node's types: a change of the NATS wire message
// (events.NodeState) or of the node's event type cannot silently change
// the REST API or the event stream.

// stateView is a node's self-description: in GET /api/v1/node (inside
// nodeView), GET /api/v1/peers, and peer-up/peer-down events.
type stateView struct {
	NodeID      string     `json:"node_id"`
	Name        string     `json:"name"`
	URL         string     `json:"url"`
	ChainID     string     `json:"chain_id"`
	Height      uint64     `json:"height"`
	Tip         chain.Hash `json:"tip"`
	Work        string     `json:"work"`
	Pause       float64    `json:"pause"`
	Mode        string     `json:"mode"`
	Mining      bool       `json:"mining"`
	BlocksMined uint64     `json:"blocks_mined"`
	Mempool     int        `json:"mempool"`
	Peers       int        `json:"peers"`
	Version     string     `json:"version"`

	Bits              uint32  `json:"bits"`
	TargetBlockMillis int64   `json:"target_block_millis"`
	BlocksToRetarget  uint64  `json:"blocks_to_retarget"`
	HashRate          float64 `json:"hash_rate"`
	HashRateLimit     float64 `json:"hash_rate_limit"`
}

func toStateView(s services.NodeState) stateView {
	return stateView{
		NodeID: s.NodeID, Name: s.Name, URL: s.URL, ChainID: s.ChainID,
		Height: s.Height, Tip: s.Tip, Work: s.Work,
		Pause: s.Pause, Mode: s.Mode, Mining: s.Mining,
		BlocksMined: s.BlocksMined, Mempool: s.Mempool, Peers: s.Peers, Version: s.Version,
		Bits: s.Bits, TargetBlockMillis: s.TargetBlockMillis, BlocksToRetarget: s.BlocksToRetarget,
		HashRate: s.HashRate, HashRateLimit: s.HashRateLimit,
	}
}

// eventView is one event of GET /api/v1/events; only the fields of its
// kind are set.
type eventView struct {
	Kind string `json:"kind"`

	Tx *chain.Tx `json:"tx,omitempty"`

	Hash   string `json:"hash,omitempty"`
	Height uint64 `json:"height,omitempty"`
	Miner  string `json:"miner,omitempty"`
	Source string `json:"source,omitempty"`
	Status string `json:"status,omitempty"`
	Txs    int    `json:"txs,omitempty"`

	Depth    int      `json:"depth,omitempty"`
	Dropped  []string `json:"dropped,omitempty"`
	Added    []string `json:"added,omitempty"`
	Returned []string `json:"returned,omitempty"`

	ForkHeight       uint64            `json:"fork_height,omitempty"`
	DroppedMined     int               `json:"dropped_mined,omitempty"`
	ReturnedCount    int               `json:"returned_count,omitempty"`
	Conflicting      []conflictingView `json:"conflicting,omitempty"`
	ConflictingCount int               `json:"conflicting_count,omitempty"`
	Until            *time.Time        `json:"until,omitempty"` // isolated: when the node rejoins

	Peer *stateView `json:"peer,omitempty"`
}

// conflictingView is a transaction a reorg dropped as invalid on the
// winning branch; with names a transaction of the same sender there.
type conflictingView struct {
	ID     string        `json:"id"`
	From   chain.Address `json:"from"`
	To     chain.Address `json:"to"`
	Amount int64         `json:"amount"`
	With   string        `json:"with,omitempty"`
}

func toEventView(e services.Event) eventView {
	v := eventView{
		Kind: string(e.Kind), Tx: e.Tx,
		Hash: e.Hash, Height: e.Height, Miner: e.Miner, Source: e.Source, Status: e.Status, Txs: e.Txs,
		Depth: e.Depth, Dropped: e.Dropped, Added: e.Added, Returned: e.Returned,
		ForkHeight: e.ForkHeight, DroppedMined: e.DroppedMined, ReturnedCount: e.ReturnedCount,
		ConflictingCount: e.ConflictingCount,
	}
	for _, c := range e.Conflicting {
		v.Conflicting = append(v.Conflicting, conflictingView{ID: c.ID, From: c.From, To: c.To, Amount: c.Amount, With: c.With})
	}
	if !e.Until.IsZero() {
		u := e.Until.UTC()
		v.Until = &u
	}
	if e.Peer != nil {
		p := toStateView(*e.Peer)
		v.Peer = &p
	}
	return v
}
