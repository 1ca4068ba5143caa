package chain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Hash is a SHA-256 digest: a block hash, a transaction hash or a merkle
// node. It encodes to JSON as lowercase hex.
type Hash [32]byte

// ZeroHash is the previous hash of the genesis block.
var ZeroHash Hash

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Short returns the first 12 hex digits, for logs.
func (h Hash) Short() string { return hex.EncodeToString(h[:6]) }

// IsZero reports whether h is all zeros.
func (h Hash) IsZero() bool { return h == ZeroHash }

// ParseHash reads 64 hex digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 64 {
		return h, fmt.Errorf("hash %q: want 64 hex digits", short(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("hash %q: %w", short(s), err)
	}
	return h, nil
}

// MarshalText implements encoding.TextMarshaler.
func (h Hash) MarshalText() ([]byte, error) {
	b := make([]byte, 64)
	hex.Encode(b, h[:])
	return b, nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// MerkleRoot commits to an ordered list of transaction hashes. Leaves and
// inner nodes are hashed with distinct one-byte tags and an odd node is
// carried up unchanged, so no two different lists share a root (the
// duplicated-last-leaf ambiguity of Bitcoin's tree cannot occur). An empty
// list has the zero root.
func MerkleRoot(leaves []Hash) Hash {
	if len(leaves) == 0 {
		return ZeroHash
	}
	level := make([]Hash, len(leaves))
	var buf [65]byte
	for i, l := range leaves {
		buf[0] = 0x00
		copy(buf[1:], l[:])
		level[i] = sha256.Sum256(buf[:33])
	}
	for len(level) > 1 {
		next := level[:0:0]
		for i := 0; i < len(level); i += 2 {
			if i+1 == len(level) {
				next = append(next, level[i])
				continue
			}
			buf[0] = 0x01
			copy(buf[1:33], level[i][:])
			copy(buf[33:], level[i+1][:])
			next = append(next, sha256.Sum256(buf[:]))
		}
		level = next
	}
	return level[0]
}
