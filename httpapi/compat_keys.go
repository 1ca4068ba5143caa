package httpapi

import (
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/pycotr/pycotr/chain"
)

// The compatibility route receives the sender's private key with every
// transaction (the original's contract; v1 clients sign themselves and the
// node never sees their keys). Parsing one costs about a seventh of the
// RSA-2048 signature it is sent for: crypto/rsa validates the key and
// prepares its CRT values on every parse. A wallet of the original
// frontend sends the same key again and again, so the node keeps a parsed
// key for a short idle time, like a wallet that stays unlocked: the entry
// is found only by presenting the same key (its SHA-256 is the look-up
// key), it is never written anywhere, logged or returned, and it is
// dropped after compatKeyIdle without use or when compatKeyMax newer keys
// push it out.
const (
	compatKeyMax  = 256
	compatKeyIdle = 2 * time.Minute
)

// parsedKey is a cached private key with its address.
type parsedKey struct {
	key      *rsa.PrivateKey
	addr     chain.Address
	lastUsed time.Time
}

// keyRing parses the compatibility route's private keys, remembering the
// recently used ones. It is safe for concurrent use and owns no goroutine:
// expiry is checked on look-up.
type keyRing struct {
	cache *lru.Cache[[sha256.Size]byte, parsedKey]
	idle  time.Duration
	now   func() time.Time
}

func newKeyRing(size int, idle time.Duration) *keyRing {
	c, err := lru.New[[sha256.Size]byte, parsedKey](size)
	if err != nil { // only for size <= 0
		panic("httpapi: key ring size must be positive")
	}
	return &keyRing{cache: c, idle: idle, now: time.Now}
}

// parse returns the key that keyHex encodes and its address, as
// chain.ParsePrivateKey would, from the cache when it holds it.
func (r *keyRing) parse(keyHex string) (*rsa.PrivateKey, chain.Address, error) {
	id := sha256.Sum256([]byte(strings.TrimSpace(keyHex)))
	now := r.now()
	if e, ok := r.cache.Get(id); ok {
		if now.Sub(e.lastUsed) <= r.idle {
			e.lastUsed = now
			r.cache.Add(id, e)
			return e.key, e.addr, nil
		}
		r.cache.Remove(id)
	}
	k, err := chain.ParsePrivateKey(keyHex)
	if err != nil {
		return nil, "", err
	}
	e := parsedKey{key: k, addr: chain.AddressOf(&k.PublicKey), lastUsed: now}
	r.cache.Add(id, e)
	return e.key, e.addr, nil
}

// len is the number of keys held, expired ones included until looked up
// or pushed out.
func (r *keyRing) len() int { return r.cache.Len() }
