package httpapi

import (
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
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

// The node signs only with keys it can afford to: an RSA signature's cost
// grows with the cube of the key's size (an 8192-bit key costs about half
// a second), so the key a client sends must be of 1024 to 4096 bits with
// the exponent 65537 (what every wallet makes). The hex is bounded before
// anything else, so that an oversized key costs neither a parse nor a
// hash; the size and exponent are checked after the parse.
const (
	compatKeyMaxBits = 4096
	compatKeyE       = 65537
	// compatKeyMaxHex is above the hex of any 4096-bit PKCS#1 key with
	// e = 65537 (at most 2 351 bytes of DER, 4 702 hex digits).
	compatKeyMaxHex = 2 * 2400
)

// errUnsupportedKey refuses a key the node will not sign with.
func errUnsupportedKey(what string) *apiError {
	return newError(http.StatusUnprocessableEntity, codeUnsupportedKey,
		"from_private_key %s: the node signs only with RSA keys of %d to %d bits and exponent %d",
		what, chain.MinKeyBits, compatKeyMaxBits, compatKeyE)
}

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
	cache    *lru.Cache[[sha256.Size]byte, parsedKey]
	idle     time.Duration
	now      func() time.Time
	parseKey func(string) (*rsa.PrivateKey, error) // chain.ParsePrivateKey
}

func newKeyRing(size int, idle time.Duration) *keyRing {
	c, err := lru.New[[sha256.Size]byte, parsedKey](size)
	if err != nil { // only for size <= 0
		panic("httpapi: key ring size must be positive")
	}
	return &keyRing{cache: c, idle: idle, now: time.Now, parseKey: chain.ParsePrivateKey}
}

// parse returns the key that keyHex encodes and its address, as
// chain.ParsePrivateKey would, from the cache when it holds it. A key
// the node will not sign with (see compatKeyMaxBits) is refused, its
// hex's length checked first, and never cached.
func (r *keyRing) parse(keyHex string) (*rsa.PrivateKey, chain.Address, error) {
	keyHex = strings.TrimSpace(keyHex)
	if len(keyHex) > compatKeyMaxHex {
		return nil, "", errUnsupportedKey(fmt.Sprintf("is %d hex digits long, more than any key of %d bits", len(keyHex), compatKeyMaxBits))
	}
	id := sha256.Sum256([]byte(keyHex))
	now := r.now()
	if e, ok := r.cache.Get(id); ok {
		if now.Sub(e.lastUsed) <= r.idle {
			e.lastUsed = now
			r.cache.Add(id, e)
			return e.key, e.addr, nil
		}
		r.cache.Remove(id)
	}
	k, err := r.parseKey(keyHex)
	if err != nil {
		return nil, "", err
	}
	if bits := k.N.BitLen(); bits > compatKeyMaxBits {
		return nil, "", errUnsupportedKey(fmt.Sprintf("has %d bits", bits))
	}
	if k.E != compatKeyE {
		return nil, "", errUnsupportedKey(fmt.Sprintf("has exponent %d", k.E))
	}
	e := parsedKey{key: k, addr: chain.AddressOf(&k.PublicKey), lastUsed: now}
	r.cache.Add(id, e)
	return e.key, e.addr, nil
}

// len is the number of keys held, expired ones included until looked up
// or pushed out.
func (r *keyRing) len() int { return r.cache.Len() }
