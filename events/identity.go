package events

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
)

// A node's identity is an Ed25519 key pair; its node id is derived from the
// public key (as a libp2p peer id is), so that no one can speak for an id
// without its key. The id is also the chain id the original's frontend
// shows (blockchain_id), a UUID, and a subject token
// (<prefix>.node.<id>.blocks): it is the UUID made of the first 16 bytes of
// SHA-256(public key) with the version and variant bits of a version-8 UUID
// (RFC 9562). docs/PROTOCOL.md §12 defines it and the signatures.

// Message kinds a signature covers: the same bytes signed as a beat cannot
// pass for a consensus or info reply.
const (
	KindPresence  = "presence"  // a beat on <prefix>.presence
	KindConsensus = "consensus" // a reply to a request on <prefix>.consensus
	KindInfo      = "info"      // a reply from <prefix>.node.<id>.info
)

// sigDomain separates Pycotr's NATS signatures from any other use of a key.
const sigDomain = "pycotr-nats-v2"

// Identity is a node's signing key and the id derived from it.
type Identity struct {
	key ed25519.PrivateKey
	id  string
}

// NewIdentity makes a new random identity.
func NewIdentity() (*Identity, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("node key: %w", err)
	}
	return IdentityFromKey(key)
}

// IdentityFromKey makes the identity of an Ed25519 private key.
func IdentityFromKey(key ed25519.PrivateKey) (*Identity, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("node key: %d bytes, want %d", len(key), ed25519.PrivateKeySize)
	}
	return &Identity{key: key, id: NodeIDOf(key.Public().(ed25519.PublicKey))}, nil
}

// ID is the node id: NodeIDOf the public key.
func (id *Identity) ID() string { return id.id }

// Key is the private key (kept in the node's data directory).
func (id *Identity) Key() ed25519.PrivateKey { return id.key }

// PublicKey is the public key, sent in Pycotr-Key.
func (id *Identity) PublicKey() ed25519.PublicKey { return id.key.Public().(ed25519.PublicKey) }

// NodeIDOf is the node id of a public key: the first 16 bytes of its
// SHA-256, with the version nibble set to 8 and the variant bits to 10
// (RFC 9562 §5.8), written as a UUID.
func NodeIDOf(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return u.String()
}

// SignedBytes is what a signature covers: the domain string, a zero byte,
// the message kind, a zero byte, then the body exactly as sent.
func SignedBytes(kind string, body []byte) []byte {
	out := make([]byte, 0, len(sigDomain)+len(kind)+2+len(body))
	out = append(out, sigDomain...)
	out = append(out, 0)
	out = append(out, kind...)
	out = append(out, 0)
	return append(out, body...)
}

// Sign sets on h the headers of a signed message of this kind: Pycotr-Node
// (the id), Pycotr-Key (the public key, lowercase hex) and Pycotr-Sig (the
// signature of SignedBytes(kind, body), lowercase hex).
func (id *Identity) Sign(h nats.Header, kind string, body []byte) {
	h.Set(HeaderNode, id.id)
	h.Set(HeaderKey, hex.EncodeToString(id.PublicKey()))
	h.Set(HeaderSig, hex.EncodeToString(ed25519.Sign(id.key, SignedBytes(kind, body))))
}

// ErrBadSignature is a signed message's failure: a missing or malformed
// key or signature, a key that does not hash to the Pycotr-Node id, or a
// signature that does not verify.
var ErrBadSignature = errors.New("bad signature")

// Verify checks that body, of this kind, was signed by the node that
// Pycotr-Node names.
func Verify(h nats.Header, kind string, body []byte) error {
	from := h.Get(HeaderNode)
	keyHex, sigHex := h.Get(HeaderKey), h.Get(HeaderSig)
	if len(keyHex) != 2*ed25519.PublicKeySize || len(sigHex) != 2*ed25519.SignatureSize {
		return fmt.Errorf("%w: missing or malformed %s or %s", ErrBadSignature, HeaderKey, HeaderSig)
	}
	key, err1 := hex.DecodeString(keyHex)
	sig, err2 := hex.DecodeString(sigHex)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("%w: %s or %s is not hex", ErrBadSignature, HeaderKey, HeaderSig)
	}
	if NodeIDOf(key) != from {
		return fmt.Errorf("%w: %s does not hash to %s %q", ErrBadSignature, HeaderKey, HeaderNode, from)
	}
	if !ed25519.Verify(key, SignedBytes(kind, body), sig) {
		return fmt.Errorf("%w: does not verify", ErrBadSignature)
	}
	return nil
}
