package chain

import (
	"crypto/rand"
	"encoding/hex"
	"math"
	"testing"
)

// Size counts what SigningBytes builds; this holds the two together.
func TestSizeCountsSigningBytes(t *testing.T) {
	for _, tx := range []Tx{
		{},
		{Type: TxTransfer, ID: "a", From: "f", To: "t", Amount: 1, Fee: 0, Signature: "00"},
		{Type: TxTransfer, ID: "id-é", From: "ffff", To: "tt", Amount: -42, Fee: math.MaxInt64, Signature: "abcdef"},
		{Type: "card", ID: "x", To: "t", Amount: math.MinInt64, Fee: -1, Card: &Card{Masked: "**** 1234", Expiry: "12/30"}},
		{Type: "card", Card: &Card{}},
	} {
		if got, want := tx.Size(), sizeOf(tx.SigningBytes(), tx.Signature); got != want {
			t.Errorf("%+v: Size %d, signing bytes and signature %d", tx, got, want)
		}
	}
}

func TestHasUpper(t *testing.T) {
	for s, want := range map[string]bool{"": false, "00ff": false, "00fF": true, "A0": true, "zZ": true, "é": false,
		"@[`{": false, "@A": true, "Z[": true} {
		if hasUpper(s) != want {
			t.Errorf("hasUpper(%q) = %v", s, !want)
		}
	}
	// Every byte value, against the definition.
	for c := range 256 {
		want := 'A' <= c && c <= 'Z'
		if got := hasUpper(string([]byte{byte(c)})); got != want {
			t.Errorf("hasUpper(%#x) = %v, want %v", c, got, want)
		}
	}
}

// BenchmarkHasUpper checks signatures of 512 random hex digits, as real
// ones are: a pattern the branch predictor cannot learn (one repeated
// string would be learned, and measure the best case).
func BenchmarkHasUpper(b *testing.B) {
	sigs := make([]string, 4096)
	buf := make([]byte, 256)
	for i := range sigs {
		rand.Read(buf)
		sigs[i] = hex.EncodeToString(buf)
	}
	i := 0
	for b.Loop() {
		if hasUpper(sigs[i%len(sigs)]) {
			b.Fatal("a capital in lowercase hex")
		}
		i++
	}
}
