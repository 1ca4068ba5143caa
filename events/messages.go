package events

import "github.com/pycotr/pycotr/chain"

// ProtocolVersion is sent in the Pycotr-Version header. A node ignores, and
// counts, messages of another version. Version 2 signs presence beats and
// consensus and info replies (Pycotr-Key, Pycotr-Sig), derives node ids
// from keys, and carries protocol version 2's chain rules (docs/PROTOCOL.md):
// a node of version 1 would fork. Version 3 adds the beat interval to a
// node's state (interval_ms), which a version-2 node's strict decoding
// would refuse. Version 4 relays transactions admitted together in one
// message on <prefix>.txs, which a version-3 node does not hear.
const ProtocolVersion = "4"

// Header names (case-sensitive in NATS).
const (
	HeaderNode    = "Pycotr-Node"
	HeaderVersion = "Pycotr-Version"
	HeaderKey     = "Pycotr-Key" // signed messages: the sender's Ed25519 public key, hex
	HeaderSig     = "Pycotr-Sig" // signed messages: Ed25519 signature of SignedBytes, hex
)

// Size limits for inbound payloads, checked before decoding.
const (
	MaxTxMessage       = 64 << 10
	MaxTxBatchMessage  = 512 << 10 // well under NATS's default 1 MiB payload
	MaxTxBatch         = 256       // transactions in one batch message
	MaxBlockMessage    = 4 << 20
	MaxPresenceMessage = 16 << 10
	MaxRequestMessage  = 64 << 10
	MaxReplyMessage    = 8 << 20
)

// TxMessage is published on <prefix>.tx.
type TxMessage struct {
	Tx chain.Tx `json:"tx"`
}

// TxBatchMessage is published on <prefix>.txs: transactions the sender
// admitted together (a relay batch), at most MaxTxBatch of them and
// MaxTxBatchMessage bytes. A lone transaction goes out as a TxMessage.
type TxBatchMessage struct {
	Txs []chain.Tx `json:"txs"`
}

// BlockMessage is published on <prefix>.block.
type BlockMessage struct {
	Block chain.Block `json:"block"`
	Hash  chain.Hash  `json:"hash"` // checked against the header on receipt
}

// NodeState is what a node says of itself: in presence beats, consensus
// replies and info replies.
type NodeState struct {
	NodeID      string     `json:"node_id"`
	Name        string     `json:"name"`
	URL         string     `json:"url"`      // the node's public HTTP URL
	ChainID     string     `json:"chain_id"` // the original's blockchain_id
	Height      uint64     `json:"height"`
	Tip         chain.Hash `json:"tip"`
	Work        string     `json:"work"` // cumulative work, decimal
	Pause       float64    `json:"pause"`
	Mode        string     `json:"mode"`
	Mining      bool       `json:"mining"`
	BlocksMined uint64     `json:"blocks_mined"`
	Mempool     int        `json:"mempool"`
	Peers       int        `json:"peers"`
	Version     string     `json:"version"`
	// IntervalMillis is the sender's presence beat interval: its next beat
	// comes within this long, and its peers expire it after three
	// (services/presence.go, docs/SCALING.md). It grows with the network.
	IntervalMillis int64 `json:"interval_ms"`

	// Difficulty: the bits the next block needs, the retarget rule's target
	// block time (0 = fixed difficulty) and blocks until it next applies;
	// the miner's measured and limited hash rates (hashes/s, 0 = no limit).
	Bits              uint32  `json:"bits"`
	TargetBlockMillis int64   `json:"target_block_millis"`
	BlocksToRetarget  uint64  `json:"blocks_to_retarget"`
	HashRate          float64 `json:"hash_rate"`
	HashRateLimit     float64 `json:"hash_rate_limit"`
}

// BlocksRequest asks a node for the blocks after the newest hash of the
// locator that is on its best chain.
type BlocksRequest struct {
	Locator   []chain.Hash `json:"locator"`
	MaxBlocks int          `json:"max_blocks"`
	MaxBytes  int          `json:"max_bytes"`
}

// BlocksReply is one page of blocks, in chain order.
type BlocksReply struct {
	Blocks    []chain.Block `json:"blocks"`
	More      bool          `json:"more"`
	TipHeight uint64        `json:"tip_height"`
}

// Limits on a blocks request.
const (
	MaxLocator       = 200
	MaxBlocksPerPage = 2000
)

// InvRequest asks a node for its mempool's inventory. The requester sends
// its own pool's count and digest (chain.PoolDigest): when they match the
// responder's, the reply says so and carries no hashes. So it does when
// the responder's digest is still Listed: a pool the requester has listed
// whole before and found nothing in to take. Otherwise the reply pages
// through the responder's pending hashes in ascending order, starting
// after After (zero: from the first).
type InvRequest struct {
	Count     int        `json:"count"`
	Digest    chain.Hash `json:"digest"`
	Listed    chain.Hash `json:"listed,omitzero"`
	After     chain.Hash `json:"after"`
	MaxHashes int        `json:"max_hashes"`
}

// InvReply is one page of a node's inventory.
type InvReply struct {
	Count  int        `json:"count"`  // the responder's pending transactions
	Digest chain.Hash `json:"digest"` // the responder's pool digest
	Same   bool       `json:"same"`   // the requester's pool has the same count and digest
	// Unchanged: the responder's digest is the request's Listed.
	Unchanged bool         `json:"unchanged,omitempty"`
	Hashes    []chain.Hash `json:"hashes"` // ascending, after the request's After
	More      bool         `json:"more"`
}

// TxsRequest asks a node for pending transactions by hash (Tx.Hash).
type TxsRequest struct {
	Hashes   []chain.Hash `json:"hashes"`
	MaxBytes int          `json:"max_bytes"`
}

// TxsReply holds the asked transactions the responder still has pending,
// in the order asked, within MaxBytes; More says it stopped for room.
type TxsReply struct {
	Txs  []chain.Tx `json:"txs"`
	More bool       `json:"more"`
}

// Limits on inventory requests.
const (
	MaxInvPage    = 4096 // hashes per inventory page (~270 KB of JSON)
	MaxTxsRequest = 512  // hashes per transactions request (~35 KB)
)
