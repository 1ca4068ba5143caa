package chain

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/pycotr/pycotr/chain/internal/rsaverify"
)

// Address is a wallet's public name: the lowercase hex of its RSA public key
// in DER SubjectPublicKeyInfo form (the original Pycotr's format).
type Address string

// KeyBits is the size of generated keys; MinKeyBits the smallest accepted.
const (
	KeyBits    = 2048
	MinKeyBits = 1024
)

// GenerateKey makes a new 2048-bit RSA wallet key.
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	return k, nil
}

// AddressOf returns the address of a public key.
func AddressOf(pub *rsa.PublicKey) Address {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil { // cannot happen for a valid *rsa.PublicKey
		panic(fmt.Sprintf("marshal RSA public key: %v", err))
	}
	return Address(hex.EncodeToString(der))
}

// EncodePrivateKey returns the hex DER PKCS#1 form of a private key (the
// original's wire format, used only on the compatibility path).
func EncodePrivateKey(k *rsa.PrivateKey) string {
	return hex.EncodeToString(x509.MarshalPKCS1PrivateKey(k))
}

// ParsePrivateKey reads a hex DER PKCS#1 RSA private key.
func ParsePrivateKey(s string) (*rsa.PrivateKey, error) {
	der, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("private key hex: %w", ErrBadPrivateKey)
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key DER: %w", ErrBadPrivateKey)
	}
	if k.N.BitLen() < MinKeyBits {
		return nil, fmt.Errorf("private key of %d bits: %w", k.N.BitLen(), ErrWeakKey)
	}
	return k, nil
}

// keyCache holds the parsed keys of the addresses seen lately (a
// process-wide cache: a key is the same for every chain).
var keyCache rsaverify.KeyCache

// ParseAddress checks an address and returns its public key.
func ParseAddress(a Address) (*rsa.PublicKey, error) {
	k, err := parseKey(a)
	if err != nil {
		return nil, err
	}
	return k.Public(), nil
}

func parseKey(a Address) (*rsaverify.Key, error) {
	if k, ok := keyCache.Get(string(a)); ok {
		return k, nil
	}
	if a == "" || strings.ToLower(string(a)) != string(a) {
		return nil, fmt.Errorf("address %s: %w", short(string(a)), ErrBadAddress)
	}
	der, err := hex.DecodeString(string(a))
	if err != nil {
		return nil, fmt.Errorf("address %s: %w", short(string(a)), ErrBadAddress)
	}
	parsed, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("address %s: %w", short(string(a)), ErrBadAddress)
	}
	pub, ok := parsed.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("address %s is not RSA: %w", short(string(a)), ErrBadAddress)
	}
	if pub.N.BitLen() < MinKeyBits {
		return nil, fmt.Errorf("address of %d bits: %w", pub.N.BitLen(), ErrWeakKey)
	}
	k := rsaverify.NewKey(pub)
	keyCache.Put(string(a), k)
	return k, nil
}

// SignBytes signs msg with RSASSA-PKCS1-v1_5 over SHA-256 and returns the
// signature as lowercase hex.
func SignBytes(k *rsa.PrivateKey, msg []byte) (string, error) {
	d := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return hex.EncodeToString(sig), nil
}

// VerifyBytes checks a lowercase hex signature made by the key behind addr over msg.
func VerifyBytes(addr Address, msg []byte, sigHex string) error {
	k, err := parseKey(addr)
	if err != nil {
		return err
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) == 0 || strings.ToLower(sigHex) != sigHex {
		return ErrSigEncoding // lowercase only: one transaction, one hash
	}
	d := sha256.Sum256(msg)
	if !k.Verify(&d, sig) {
		return ErrBadSignature
	}
	return nil
}

// short abbreviates long hex strings in error messages.
func short(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-8:]
}
