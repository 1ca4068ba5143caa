package chain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// HeaderSize is the length of an encoded header. The layout (big-endian):
//
//	offset  size  field
//	0       4     version
//	4       8     height
//	12      32    previous block hash
//	44      32    merkle root
//	76      8     timestamp, unix milliseconds
//	84      4     bits (leading zero bits the hash must have)
//	88      8     nonce
//
// The nonce is last, so the first 64 bytes are hashed once per template
// (the midstate) and each proof-of-work try hashes only the final block.
const HeaderSize = 96

// BlockVersion is the only header version this code accepts.
const BlockVersion = 1

// Header is a block header.
type Header struct {
	Version    uint32 `json:"version"`
	Height     uint64 `json:"height"`
	PrevHash   Hash   `json:"prev_hash"`
	MerkleRoot Hash   `json:"merkle_root"`
	Timestamp  int64  `json:"timestamp"` // unix milliseconds
	Bits       uint32 `json:"bits"`
	Nonce      uint64 `json:"nonce"`
}

// Encode returns the fixed binary form of the header.
func (h *Header) Encode() [HeaderSize]byte {
	var b [HeaderSize]byte
	binary.BigEndian.PutUint32(b[0:], h.Version)
	binary.BigEndian.PutUint64(b[4:], h.Height)
	copy(b[12:44], h.PrevHash[:])
	copy(b[44:76], h.MerkleRoot[:])
	binary.BigEndian.PutUint64(b[76:], uint64(h.Timestamp))
	binary.BigEndian.PutUint32(b[84:], h.Bits)
	binary.BigEndian.PutUint64(b[88:], h.Nonce)
	return b
}

// DecodeHeader reads the fixed binary form of a header.
func DecodeHeader(b []byte) (Header, error) {
	if len(b) != HeaderSize {
		return Header{}, fmt.Errorf("header of %d bytes, want %d: %w", len(b), HeaderSize, ErrMalformedBlock)
	}
	var h Header
	h.Version = binary.BigEndian.Uint32(b[0:])
	h.Height = binary.BigEndian.Uint64(b[4:])
	copy(h.PrevHash[:], b[12:44])
	copy(h.MerkleRoot[:], b[44:76])
	h.Timestamp = int64(binary.BigEndian.Uint64(b[76:]))
	h.Bits = binary.BigEndian.Uint32(b[84:])
	h.Nonce = binary.BigEndian.Uint64(b[88:])
	return h, nil
}

// Hash is SHA-256 of the encoded header.
func (h *Header) Hash() Hash {
	b := h.Encode()
	return sha256.Sum256(b[:])
}

// Block is a header and its transactions, the first being the reward.
type Block struct {
	Header Header `json:"header"`
	Txs    []Tx   `json:"transactions"`
}

// Hash is the header's hash.
func (b *Block) Hash() Hash { return b.Header.Hash() }

// NewBlock assembles a block under hdr, setting its merkle root: a reward
// paying miner reward plus the fees of txs, then txs. Chain.Template
// builds the next block with it (as tests do); solve the header
// (Miner.Solve), then hand the block to Chain.ProcessBlock.
func NewBlock(hdr Header, miner Address, reward int64, txs []Tx) *Block {
	var fees int64
	for i := range txs {
		fees += txs[i].Fee
	}
	b := &Block{Header: hdr, Txs: append([]Tx{NewReward(hdr.Height, hdr.PrevHash, miner, reward+fees)}, txs...)}
	b.Header.MerkleRoot = b.ComputeMerkleRoot()
	return b
}

// TxHashes returns the merkle leaves.
func (b *Block) TxHashes() []Hash {
	hs := make([]Hash, len(b.Txs))
	for i := range b.Txs {
		hs[i] = b.Txs[i].Hash()
	}
	return hs
}

// ComputeMerkleRoot returns the merkle root of the block's transactions.
func (b *Block) ComputeMerkleRoot() Hash { return MerkleRoot(b.TxHashes()) }

// Size is the block's size for limits: header plus transactions.
func (b *Block) Size() int {
	n := HeaderSize
	for i := range b.Txs {
		n += b.Txs[i].Size()
	}
	return n
}

// Fees sums the fees of the block's non-reward transactions.
func (b *Block) Fees() int64 {
	var f int64
	for i := range b.Txs {
		if b.Txs[i].Type != TxReward {
			f += b.Txs[i].Fee
		}
	}
	return f
}

// Miner is the reward's recipient, or "" when the block has no reward.
func (b *Block) Miner() Address {
	if len(b.Txs) > 0 && b.Txs[0].Type == TxReward {
		return b.Txs[0].To
	}
	return ""
}
