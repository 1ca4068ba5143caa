package chain

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestKeyRoundTrips(t *testing.T) {
	k := key(0)
	hexKey := EncodePrivateKey(k)
	k2, err := ParsePrivateKey(" " + hexKey + "\n")
	if err != nil || !k2.Equal(k) {
		t.Fatalf("private key round trip: %v", err)
	}
	a := AddressOf(&k.PublicKey)
	if strings.ToLower(string(a)) != string(a) {
		t.Fatal("address not lowercase")
	}
	pub, err := ParseAddress(a)
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("address round trip: %v", err)
	}
	sig, err := SignBytes(k, []byte("hello"))
	if err != nil || VerifyBytes(a, []byte("hello"), sig) != nil {
		t.Fatalf("sign/verify: %v", err)
	}
	if !errors.Is(VerifyBytes(a, []byte("hellO"), sig), ErrBadSignature) {
		t.Fatal("verify of other bytes")
	}
	if !errors.Is(VerifyBytes(addr(1), []byte("hello"), sig), ErrBadSignature) {
		t.Fatal("verify with another key")
	}
}

func TestKeySizes(t *testing.T) {
	if key(0).N.BitLen() != 1024 {
		t.Fatal("test keys are 1024-bit")
	}
	if _, err := ParseAddress(addr(0)); err != nil {
		t.Fatalf("1024-bit address rejected: %v", err)
	}
	if _, err := ParseAddress(weakAddress()); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("512-bit address: %v", err)
	}
	weak, err := os.ReadFile("testdata/weak512_key.hex")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParsePrivateKey(string(weak)); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("512-bit private key: %v", err)
	}
	for _, bad := range []string{"", "zz", "00", "3082", strings.Repeat("ab", 200)} {
		if _, err := ParsePrivateKey(bad); !errors.Is(err, ErrBadPrivateKey) {
			t.Fatalf("private %q: %v", bad, err)
		}
		if _, err := ParseAddress(Address(bad)); !errors.Is(err, ErrBadAddress) {
			t.Fatalf("address %q: %v", bad, err)
		}
	}
	k, err := GenerateKey()
	if err != nil || k.N.BitLen() != KeyBits {
		t.Fatalf("GenerateKey: %v", err)
	}
	if _, err := ParseAddress(AddressOf(&k.PublicKey)); err != nil {
		t.Fatal(err)
	}
}

func TestLuhn(t *testing.T) {
	for num, ok := range map[string]bool{
		"4111111111111111":     true,
		"4111 1111 1111 1111":  true,
		"4111-1111-1111-1111":  true,
		"5555555555554444":     true,
		"378282246310005":      true,  // Amex, 15 digits
		"79927398713":          false, // valid Luhn but 11 digits
		"4111111111111112":     false,
		"1234567812345678":     false,
		"41111111111111111111": false, // 20 digits
		"":                     false,
		"4111 1111 1111 111a1": true, // stray characters are dropped
	} {
		_, err := NewCard(CardInput{Number: num, Expiry: "2030-01", CVV: "123"})
		if ok != (err == nil) {
			t.Errorf("%q: %v", num, err)
		}
		if !ok && !errors.Is(err, ErrBadCardNumber) {
			t.Errorf("%q: %v", num, err)
		}
	}
	if !luhn("79927398713") || luhn("79927398710") {
		t.Fatal("luhn")
	}
}

func TestCard(t *testing.T) {
	c, err := NewCard(CardInput{Number: "5555-5555-5555-4444", Expiry: "2024-02", CVV: "737", Holder: "  Grace Hopper "})
	if err != nil {
		t.Fatal(err)
	}
	if c.Masked != "************4444" || c.Expiry != "2024-02-29" {
		t.Fatalf("%+v", c)
	}
	at, err := c.ExpiresAt()
	if err != nil || at != mustMillis(t, "2024-03-01") {
		t.Fatalf("expires at %d: %v", at, err)
	}
	for exp, want := range map[string]string{"2025-02": "2025-02-28", "2030-12": "2030-12-31", "2030-04-15": "2030-04-15"} {
		c, err := NewCard(CardInput{Number: "4111111111111111", Expiry: exp, CVV: "123"})
		if err != nil || c.Expiry != want {
			t.Errorf("%s: %s %v", exp, c.Expiry, err)
		}
	}
	for _, in := range []CardInput{
		{Number: "4111111111111111", Expiry: "2030-13", CVV: "123"},
		{Number: "4111111111111111", Expiry: "12/30", CVV: "123"},
		{Number: "4111111111111111", Expiry: "2030-01", CVV: "12"},
		{Number: "4111111111111111", Expiry: "2030-01", CVV: "12a"},
		{Number: "4111111111111111", Expiry: "2030-01", CVV: "12345"},
	} {
		if _, err := NewCard(in); !errors.Is(err, ErrBadCardData) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	// The CVV, the holder and the full number are stored nowhere, nor any
	// digest of the number: Card has exactly these fields, and its JSON
	// never holds them.
	var names []string
	for f := range reflect.TypeFor[Card]().Fields() {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "Masked,Expiry" {
		t.Fatalf("Card fields %v", names)
	}
	c1, _ := NewCard(CardInput{Number: "4111111111111111", Expiry: "2030-01", CVV: "123", Holder: "A"})
	c2, _ := NewCard(CardInput{Number: "4111111111111111", Expiry: "2030-01", CVV: "9876", Holder: "B"})
	if c1 != c2 {
		t.Fatal("the CVV or the holder changes the stored card")
	}
	// Another number with the same last four digits and expiry gives the
	// same stored card: nothing on the chain narrows the number further.
	c3, _ := NewCard(CardInput{Number: "4000 0000 0600 1111", Expiry: "2030-01", CVV: "123"})
	if c3 != c1 {
		t.Fatalf("the stored card depends on more than the last four digits: %+v, %+v", c1, c3)
	}
	js, _ := json.Marshal(c1)
	if strings.Contains(string(js), "4111111111111111") || strings.Contains(strings.ToLower(string(js)), "cvv") {
		t.Fatalf("card JSON %s", js)
	}
	if c1.check() != nil {
		t.Fatal("a new card fails its own check")
	}
}

func TestTxSigningBytesCoverEveryField(t *testing.T) {
	base := mint(t, 0, 10, 1)
	edits := []func(*Tx){
		func(tx *Tx) { tx.Type = TxTransfer },
		func(tx *Tx) { tx.ID = NewTxID() },
		func(tx *Tx) { tx.From = addr(1) },
		func(tx *Tx) { tx.To = addr(1) },
		func(tx *Tx) { tx.Amount++ },
		func(tx *Tx) { tx.Fee++ },
		func(tx *Tx) { tx.Card.Masked = "***********1111" },
		func(tx *Tx) { tx.Card.Expiry = "2099-11-30" },
	}
	for i, edit := range edits {
		tx := base
		c := *base.Card
		tx.Card = &c
		edit(&tx)
		if string(tx.SigningBytes()) == string(base.SigningBytes()) || tx.Hash() == base.Hash() {
			t.Errorf("edit %d not covered", i)
		}
		if err := CheckTxSanity(&tx, &Params{}); err == nil {
			t.Errorf("edit %d still verifies", i)
		}
	}
	tx := base
	tx.Signature = "00" + tx.Signature[2:]
	if tx.Hash() == base.Hash() {
		t.Error("the hash does not cover the signature")
	}
}

func mustMillis(t *testing.T, date string) int64 {
	t.Helper()
	tm, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixMilli()
}

// TestVerifyBytesThroughTheCache: an address's second verification uses
// the cached key and its kept modulus, and still refuses a bad signature.
func TestVerifyBytesThroughTheCache(t *testing.T) {
	msg := []byte("cached")
	sig, err := SignBytes(key(2), msg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := VerifyBytes(addr(2), msg, sig); err != nil {
			t.Fatalf("try %d: %v", i, err)
		}
		if err := VerifyBytes(addr(3), msg, sig); err != ErrBadSignature {
			t.Fatalf("try %d, other key: %v, want ErrBadSignature", i, err)
		}
		if err := VerifyBytes(addr(2), []byte("other"), sig); err != ErrBadSignature {
			t.Fatalf("try %d, other message: %v, want ErrBadSignature", i, err)
		}
	}
	k, ok := keyCache.Get(string(addr(2)))
	if !ok || !k.Kept() {
		t.Fatal("the key is not cached with its modulus")
	}
}
