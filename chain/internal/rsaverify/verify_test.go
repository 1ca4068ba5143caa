package rsaverify

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"math/big"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pycotr/pycotr/internal/testkit"
)

// key is one of the test binary's 1024-bit keys.
func key(i int) *rsa.PrivateKey { return testkit.Key(i) }

// exampleKey is the key of chain's protocol examples (one file, in chain's
// testdata): the fuzz corpora below hold its signatures.
func exampleKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("../../testdata/example_key.hex")
	if err != nil {
		t.Fatal(err)
	}
	der, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stdVerify is the reference: crypto/rsa's verification of the same input.
func stdVerify(pub *rsa.PublicKey, d *[32]byte, sig []byte) bool {
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
}

// rawSign is em^d mod n: a "signature" of any encoding, well-formed or not.
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	s := new(big.Int).Exp(new(big.Int).SetBytes(em), k.D, k.N)
	return s.FillBytes(make([]byte, k.Size()))
}

// encodeEM builds a PKCS #1 v1.5 encoding of digest d for a k-byte
// modulus, mutated by mut before it is returned.
func encodeEM(size int, d []byte, mut func(em []byte)) []byte {
	em := make([]byte, size)
	em[1] = 1
	t := len(sha256DigestInfo) + len(d)
	for i := 2; i < size-t-1; i++ {
		em[i] = 0xff
	}
	copy(em[size-t:], sha256DigestInfo)
	copy(em[size-len(d):], d)
	if mut != nil {
		mut(em)
	}
	return em
}

// shortPadding is the classic forgery of a lenient verifier: the
// minimum padding (eight 0xff), the separator, DigestInfo and digest, and
// then zeros up to the modulus' length instead of a longer padding.
func shortPadding(size int, d []byte) []byte {
	em := make([]byte, size)
	em[1] = 1
	copy(em[2:], bytes.Repeat([]byte{0xff}, 8))
	copy(em[11:], sha256DigestInfo)
	copy(em[11+len(sha256DigestInfo):], d)
	return em
}

// verifyCases returns signatures over d for k: the real one and ways to
// get one wrong, each named.
func verifyCases(k *rsa.PrivateKey, d [32]byte) map[string][]byte {
	good, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	if err != nil {
		panic(err)
	}
	size := k.Size()
	t := len(sha256DigestInfo) + len(d)
	flip := func(i int, bit byte) []byte {
		s := bytes.Clone(good)
		s[i] ^= bit
		return s
	}
	n := k.N.FillBytes(make([]byte, size))
	nMinus1 := new(big.Int).Sub(k.N, big.NewInt(1)).FillBytes(make([]byte, size))
	raw, err := rsa.SignPKCS1v15(nil, k, crypto.Hash(0), d[:]) // no DigestInfo
	if err != nil {
		panic(err)
	}
	sha1Digest := make([]byte, 20)
	copy(sha1Digest, d[:])
	sha1Sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA1, sha1Digest)
	if err != nil {
		panic(err)
	}
	return map[string][]byte{
		"good":                 good,
		"hand-built good":      rawSign(k, encodeEM(size, d[:], nil)),
		"first byte flipped":   flip(0, 0x80),
		"middle bit flipped":   flip(size/2, 0x01),
		"last bit flipped":     flip(size-1, 0x01),
		"one byte short":       good[1:],
		"leading zero added":   append([]byte{0}, good...),
		"trailing byte added":  append(bytes.Clone(good), 0),
		"empty":                {},
		"zero":                 make([]byte, size),
		"one":                  append(make([]byte, size-1), 1),
		"the modulus":          n,
		"modulus minus one":    nMinus1,
		"all ff":               bytes.Repeat([]byte{0xff}, size),
		"good plus modulus":    new(big.Int).Add(new(big.Int).SetBytes(good), k.N).Bytes(),
		"no DigestInfo":        raw,
		"SHA-1 DigestInfo":     sha1Sig,
		"block type 2":         rawSign(k, encodeEM(size, d[:], func(em []byte) { em[1] = 2 })),
		"nonzero first byte":   rawSign(k, encodeEM(size, d[:], func(em []byte) { em[0] = 1 })), // may exceed n: refused either way
		"short padding":        rawSign(k, shortPadding(size, d[:])),
		"padding not all ff":   rawSign(k, encodeEM(size, d[:], func(em []byte) { em[5] = 0xfe })),
		"no zero separator":    rawSign(k, encodeEM(size, d[:], func(em []byte) { em[size-t-1] = 0xff })),
		"DigestInfo altered":   rawSign(k, encodeEM(size, d[:], func(em []byte) { em[size-t+3] ^= 1 })),
		"digest altered":       rawSign(k, encodeEM(size, d[:], func(em []byte) { em[size-1] ^= 1 })),
		"other digest":         rawSign(k, encodeEM(size, make([]byte, 32), nil)),
		"garbage after digest": rawSign(k, append(encodeEM(size-1, d[:], nil)[1:], 0)),
	}
}

// makeKey builds an RSA key of exactly bits bits with public exponent e,
// which rsa.GenerateKey (always 65537) cannot.
func makeKey(t testing.TB, bits int, e int) *rsa.PrivateKey {
	t.Helper()
	E := big.NewInt(int64(e))
	one := big.NewInt(1)
	for {
		p, err := rand.Prime(rand.Reader, (bits+1)/2)
		if err != nil {
			t.Fatal(err)
		}
		q, err := rand.Prime(rand.Reader, bits/2)
		if err != nil {
			t.Fatal(err)
		}
		n := new(big.Int).Mul(p, q)
		pm, qm := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		phi := new(big.Int).Mul(pm, qm)
		d := new(big.Int).ModInverse(E, phi)
		if n.BitLen() != bits || p.Cmp(q) == 0 || d == nil {
			continue
		}
		k := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: n, E: e}, D: d, Primes: []*big.Int{p, q}}
		k.Precompute()
		return k
	}
}

// TestVerifyMatchesStdlib: the kept-modulus verification gives crypto/rsa's
// answer for real signatures, forgeries of every part of the encoding, and
// keys crypto/rsa refuses to verify with.
func TestVerifyMatchesStdlib(t *testing.T) {
	keys := map[string]*rsa.PrivateKey{
		"1024":              key(0),
		"example":           exampleKey(t),
		"1031 (odd length)": makeKey(t, 1031, 65537),
		"2048":              makeKey(t, 2048, 65537),
		"4096 (more limbs)": makeKey(t, 4096, 65537),
		"4104 (crypto/rsa)": makeKey(t, MaxKeptBits+8, 65537),
		"e = 3":             makeKey(t, 1024, 3),
		"e = 2³¹ − 1":       makeKey(t, 1024, 1<<31-1),
	}
	d := sha256.Sum256([]byte("pycotr verify"))
	for name, k := range keys {
		pk := NewKey(&k.PublicKey)
		for cname, sig := range verifyCases(k, d) {
			want := stdVerify(&k.PublicKey, &d, sig)
			if got := pk.Verify(&d, sig); got != want {
				t.Errorf("key %s, %s: verify = %v, crypto/rsa says %v", name, cname, got, want)
			}
			if want != (cname == "good" || cname == "hand-built good") {
				t.Errorf("key %s, %s: crypto/rsa says %v: the case is not what it claims", name, cname, want)
			}
		}
		if kept := pk.mod.Load() != nil; kept != (k.N.BitLen() <= MaxKeptBits) {
			t.Errorf("key %s: modulus kept = %v for a %d-bit key", name, kept, k.N.BitLen())
		}
	}
	// Keys crypto/rsa will not verify with: the same signature, refused.
	k := key(1)
	good, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	for name, pub := range map[string]rsa.PublicKey{
		"exponent 1":     {N: k.N, E: 1},
		"exponent 2":     {N: k.N, E: 2},
		"even exponent":  {N: k.N, E: 65536},
		"exponent ≥ 2³¹": {N: k.N, E: 1<<31 + 1},
		"even modulus":   {N: new(big.Int).Add(k.N, big.NewInt(1)), E: k.E},
	} {
		if stdVerify(&pub, &d, good) {
			t.Fatalf("%s: crypto/rsa verifies; the case is not what it claims", name)
		}
		if NewKey(&pub).Verify(&d, good) {
			t.Errorf("%s: verifies, crypto/rsa refuses", name)
		}
	}
}

// TestKeyCacheGenerations: filling the cache many times over keeps a key
// in use, and forgets the rest without emptying at once.
func TestKeyCacheGenerations(t *testing.T) {
	var keyCache KeyCache
	hot := "hot"
	want := NewKey(&key(4).PublicKey)
	keyCache.Put(hot, want)
	k := NewKey(&key(5).PublicKey)
	for i := range 3 * KeyCacheGeneration {
		keyCache.Put(fmtIndex(i), k)
		if i%1000 == 0 {
			if got, ok := keyCache.Get(hot); !ok || got != want || !got.Public().Equal(&key(4).PublicKey) {
				t.Fatalf("the key in use was dropped or changed after %d others", i)
			}
		}
	}
	if n := keyCache.Len(); n > 2*KeyCacheGeneration {
		t.Fatalf("the cache holds %d keys, more than two generations", n)
	}
	if _, ok := keyCache.Get(fmtIndex(0)); ok {
		t.Fatal("a key not used for three generations is still cached")
	}
}

// TestVerifyFirstUseConcurrent: goroutines verifying with a key whose
// modulus is not prepared yet all get the right answer (run with -race).
func TestVerifyFirstUseConcurrent(t *testing.T) {
	k := key(6)
	d := sha256.Sum256([]byte("at once"))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	pk := NewKey(&k.PublicKey)
	results := make(chan bool, 8)
	for range 8 {
		go func() { results <- pk.Verify(&d, sig) }()
	}
	for range 8 {
		if !<-results {
			t.Fatal("a concurrent first verification refused a good signature")
		}
	}
	if !pk.Verify(&d, sig) || pk.Verify(&d, sig[1:]) {
		t.Fatal("wrong answer after the concurrent first use")
	}
}

func fmtIndex(i int) string { return "test-" + strconv.Itoa(i) }

// FuzzVerifyMatchesStdlib: for any signature bytes and digest, the kept-
// modulus verification and crypto/rsa agree (the example key; its seed
// corpus holds a real signature and forgeries of it).
func FuzzVerifyMatchesStdlib(f *testing.F) {
	k := exampleKey(f)
	d := sha256.Sum256([]byte("pycotr verify"))
	for _, sig := range verifyCases(k, d) {
		f.Add(sig, d[:])
	}
	pk := NewKey(&k.PublicKey)
	f.Fuzz(func(t *testing.T, sig, digest []byte) {
		var d [32]byte
		copy(d[:], digest)
		if got, want := pk.Verify(&d, sig), stdVerify(&k.PublicKey, &d, sig); got != want {
			t.Fatalf("verify = %v, crypto/rsa says %v", got, want)
		}
	})
}

// BenchmarkVerify2048 compares one RSA-2048 verification with the kept
// modulus and with crypto/rsa, which prepares the modulus on every call.
func BenchmarkVerify2048(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("pycotr verify"))
	sig, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, d[:])
	if err != nil {
		b.Fatal(err)
	}
	b.Run("kept-modulus", func(b *testing.B) {
		pk := NewKey(&k.PublicKey)
		for b.Loop() {
			if !pk.Verify(&d, sig) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("crypto-rsa", func(b *testing.B) {
		for b.Loop() {
			if !stdVerify(&k.PublicKey, &d, sig) {
				b.Fatal("refused")
			}
		}
	})
}

// FuzzVerifyEncodings fuzzes what a signature decodes to, not the
// signature: any k-byte encoding below the example key's modulus is made
// into the signature that yields it, and both verifications must agree. A
// random signature almost never decodes to 0x00 0x01…, so it is this target
// that explores the edge between accepted and refused encodings; its seeds
// are the right encoding and ways to get each part of it wrong.
func FuzzVerifyEncodings(f *testing.F) {
	k := exampleKey(f)
	d := sha256.Sum256([]byte("pycotr verify"))
	size := k.Size()
	t := len(sha256DigestInfo) + len(d)
	for _, mut := range []func(em []byte){
		nil,
		func(em []byte) { em[1] = 2 },
		func(em []byte) { em[2] = 0 },
		func(em []byte) { em[size-t-1] = 0xff },
		func(em []byte) { em[size-t-2] = 0 },
		func(em []byte) { em[size-t] ^= 0x20 },
		func(em []byte) { em[size-1] ^= 1 },
		func(em []byte) { copy(em[2:], em[size-t-1:]); clear(em[size-(size-t-3):]) },
	} {
		f.Add(encodeEM(size, d[:], mut))
	}
	pk := NewKey(&k.PublicKey)
	f.Fuzz(func(t *testing.T, in []byte) {
		em := make([]byte, size)
		copy(em[max(0, size-len(in)):], in[max(0, len(in)-size):])
		if new(big.Int).SetBytes(em).Cmp(k.N) >= 0 {
			return // no signature yields it
		}
		sig := rawSign(k, em)
		if got, want := pk.Verify(&d, sig), stdVerify(&k.PublicKey, &d, sig); got != want {
			t.Fatalf("encoding %x: verify = %v, crypto/rsa says %v", em, got, want)
		}
	})
}
