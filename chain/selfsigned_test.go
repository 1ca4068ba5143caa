package chain

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
)

// selfSigned is signedAs of the transaction's own Hash: whether
// CheckTxSanity would skip its verification.
func (tx *Tx) selfSigned() bool { return tx.signedAs(tx.Hash()) }

// A transaction signed in this process skips the second verification only
// while its content is exactly what was signed, with the key of From.
func TestSelfSignedSkipsOnlyUnchangedContent(t *testing.T) {
	p := testParams()
	tx := transfer(t, 0, 1, 10, 1)
	if !tx.selfSigned() {
		t.Fatal("a transfer fresh from NewTransfer is not marked self-signed")
	}
	if err := CheckTxSanity(&tx, &p); err != nil {
		t.Fatalf("fresh transfer: %v", err)
	}

	// Any edit after signing brings the verification back, and it fails.
	edited := tx
	edited.Amount++
	if edited.selfSigned() {
		t.Fatal("an edited copy is still marked self-signed")
	}
	if err := CheckTxSanity(&edited, &p); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("edited amount: %v, want ErrBadSignature", err)
	}
	card := mint(t, 0, 50, 0)
	card.Card.Expiry = "2098-12-31" // through the pointer: still a content change
	if err := CheckTxSanity(&card, &p); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("edited card: %v, want ErrBadSignature", err)
	}

	// Signed with a key that is not From's: no mark, verified, rejected.
	wrong := Tx{Type: TxTransfer, ID: NewTxID(), From: addr(0), To: addr(1), Amount: 5, Fee: 1}
	resign(t, &wrong, 1)
	if wrong.selfSigned() {
		t.Fatal("signed with another key, yet marked self-signed")
	}
	if err := CheckTxSanity(&wrong, &p); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("signed by the wrong key: %v, want ErrBadSignature", err)
	}

	// A copy that came over the wire carries no mark and is verified.
	got := received(t, tx)
	if got.selfSigned() {
		t.Fatal("a decoded copy is marked self-signed")
	}
	if err := CheckTxSanity(&got, &p); err != nil {
		t.Fatalf("decoded copy: %v", err)
	}
	got.Fee++
	if err := CheckTxSanity(&got, &p); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("decoded and edited: %v, want ErrBadSignature", err)
	}
}

// The address rules hold for a transaction signed in this process too: a
// sender key below MinKeyBits is refused. (crypto/rsa
// itself refuses keys that small unless GODEBUG says otherwise.)
func TestSelfSignedWeakSenderRefused(t *testing.T) {
	t.Setenv("GODEBUG", "rsa1024min=0")
	weak, err := rsa.GenerateKey(rand.Reader, 512)
	if err != nil {
		t.Fatal(err)
	}
	p := testParams()
	tx, err := NewTransfer(weak, addr(1), 1, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTxSanity(&tx, &p); !errors.Is(err, ErrWeakKey) {
		t.Fatalf("512-bit sender: %v, want ErrWeakKey", err)
	}
}
