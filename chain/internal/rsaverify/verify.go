// Package rsaverify verifies RSASSA-PKCS1-v1_5 signatures over SHA-256
// with the key's modulus prepared once and kept, and caches parsed keys by
// address. It is the speed behind chain's signature rule; the rule (which
// keys and signatures a transaction may carry) is chain's. It imports the
// standard library and filippo.io/bigmod only.
package rsaverify

import (
	"bytes"
	"crypto"
	"crypto/fips140"
	"crypto/rsa"
	"sync/atomic"

	"filippo.io/bigmod"

	"github.com/pycotr/pycotr/chain/internal/generations"
)

// Key is a parsed address: its RSA public key, and the key's modulus
// prepared for the verification arithmetic once, at the first signature it
// checks. It is safe for concurrent use.
//
// crypto/rsa's VerifyPKCS1v15 prepares the modulus again on every call (its
// Montgomery constants: about a quarter of an RSA-2048 verification) and
// offers no way to keep it. Wallets sign again and again, so the chain keeps
// it, and verifies as crypto/rsa does, with the arithmetic crypto/rsa itself
// uses: filippo.io/bigmod is the exported copy of its bigmod package. The
// steps are crypto/rsa's (RFC 8017 §8.2.2): the signature is as long as the
// modulus and below it, m = s^e mod n, and m is, byte for byte, the one
// encoding a SHA-256 signature may have. TestVerifyMatchesStdlib,
// FuzzVerifyMatchesStdlib and FuzzVerifyEncodings hold the two to the same
// answer.
//
// In FIPS 140-3 mode (GODEBUG=fips140=on or only) the chain verifies with
// crypto/rsa itself, so that only the validated module's code is used and
// its stricter key rules (fips140=only) apply; so it does for a key above
// MaxKeptBits, whose prepared modulus is not worth its memory. A
// BoringCrypto build (GOEXPERIMENT=boringcrypto) is not supported: there
// crypto/rsa would use BoringSSL, and this code does not.
type Key struct {
	pub *rsa.PublicKey
	// usable is whether crypto/rsa would verify with this key at all: an
	// odd modulus of at least minBits and an odd exponent in [3, 2³¹).
	// An address whose key is not usable is still a valid recipient (it was
	// before this check existed), but nothing it signs verifies.
	usable bool
	mod    atomic.Pointer[bigmod.Modulus]
}

// MaxKeptBits bounds the keys whose prepared modulus is kept (two
// numbers of the key's size): wallets are 2048-bit, and an address can
// carry a key of up to about 16 000 bits within the size limit of a
// transaction.
const MaxKeptBits = 4096

// minBits is the smallest modulus crypto/rsa verifies with (its own rule;
// chain.MinKeyBits, the smallest key an address may carry, is the same).
const minBits = 1024

// NewKey wraps a public key for verification; its modulus is prepared at
// the first Verify.
func NewKey(pub *rsa.PublicKey) *Key {
	return &Key{pub: pub, usable: pub.N.Bit(0) == 1 && pub.N.BitLen() >= minBits &&
		pub.E >= 3 && pub.E&1 == 1 && pub.E <= 1<<31-1}
}

// Public is the key's RSA public key.
func (k *Key) Public() *rsa.PublicKey { return k.pub }

// Kept reports whether the key's prepared modulus is kept (it is after the
// first Verify with a key of at most MaxKeptBits, outside FIPS mode).
func (k *Key) Kept() bool { return k.mod.Load() != nil }

// modulus returns the prepared modulus, preparing it on first use. Two
// first uses at once both prepare it; either result is the same value.
func (k *Key) modulus() (*bigmod.Modulus, error) {
	if m := k.mod.Load(); m != nil {
		return m, nil
	}
	m, err := bigmod.NewModulus(k.pub.N.Bytes())
	if err != nil {
		return nil, err
	}
	k.mod.Store(m)
	return m, nil
}

// sha256DigestInfo is the DER prefix of a SHA-256 digest in a PKCS #1 v1.5
// signature (RFC 8017 §9.2, note 1).
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

// Verify reports whether sig is k's RSASSA-PKCS1-v1_5 signature of the
// SHA-256 digest d.
func (k *Key) Verify(d *[32]byte, sig []byte) bool {
	if fips140.Enabled() || k.pub.N.BitLen() > MaxKeptBits {
		return rsa.VerifyPKCS1v15(k.pub, crypto.SHA256, d[:], sig) == nil
	}
	if !k.usable {
		return false
	}
	n, err := k.modulus()
	if err != nil {
		return false
	}
	size := n.Size()
	t := len(sha256DigestInfo) + len(d)
	if len(sig) != size || size < t+11 {
		return false
	}
	s, err := bigmod.NewNat().SetBytes(sig, n) // refuses s ≥ n
	if err != nil {
		return false
	}
	em := bigmod.NewNat().ExpShortVarTime(s, uint(k.pub.E), n).Bytes(n)
	// em = 0x00 0x01 0xff… 0x00 DigestInfo digest, the 0xff run filling the rest.
	if em[0] != 0 || em[1] != 1 || em[size-t-1] != 0 {
		return false
	}
	for _, b := range em[2 : size-t-1] {
		if b != 0xff {
			return false
		}
	}
	return bytes.Equal(em[size-t:size-len(d)], sha256DigestInfo) && bytes.Equal(em[size-len(d):], d[:])
}

// KeyCache remembers parsed public keys by address: parsing DER costs
// more than an RSA verification, and the same wallets sign again and
// again. Two generations of KeyCacheGeneration addresses: a busy wallet
// stays parsed however many others pass through. The zero value is empty
// and ready.
type KeyCache struct {
	g generations.Map[string, *Key]
}

// KeyCacheGeneration bounds each generation of a KeyCache.
const KeyCacheGeneration = 1 << 15

// Get returns the key cached for addr, if any.
func (c *KeyCache) Get(addr string) (*Key, bool) { return c.g.Get(addr, KeyCacheGeneration) }

// Put caches k for addr.
func (c *KeyCache) Put(addr string, k *Key) { c.g.Put(addr, k, KeyCacheGeneration) }

// Len is the number of keys cached.
func (c *KeyCache) Len() int { return c.g.Len() }
