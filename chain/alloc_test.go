package chain

import (
	"bytes"
	"crypto/sha256"
	"runtime"
	"testing"
)

// TestHashingAllocatesNothing: a transaction's hash is built on the stack
// (hashOf) and a block's check builds each transaction's signing bytes in
// one reused buffer, so checking a block allocates the same whatever the
// number of its transactions' bytes: every node hashes every transaction
// it admits and every transaction of every block it receives, and a new
// 2 KB slice each time was a third of a node's garbage.
func TestHashingAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's instrumentation allocates")
	}
	tx := transfer(t, 0, 1, 5, 1)
	msg := tx.SigningBytes()
	if a := testing.AllocsPerRun(100, func() { hashOf(msg, tx.Signature) }); a != 0 {
		t.Errorf("hashOf: %v allocations, want 0", a)
	}
	// The same bytes as a plain concatenation: the hash did not change.
	want := sha256.Sum256(bytes.Join([][]byte{msg, []byte("signature:" + tx.Signature + "\n")}, nil))
	if got := hashOf(msg, tx.Signature); got != want {
		t.Fatalf("hashOf %x, want %x", got, want)
	}
	if got := tx.appendSigningBytes([]byte("prefix")); !bytes.Equal(got[len("prefix"):], msg) {
		t.Fatalf("appendSigningBytes %q, want %q after the prefix", got, msg)
	}

	// A block of 20 transfers: their signing bytes and hashed bytes, as
	// new slices, would be about 3 KB a transaction; what is left (the
	// leaves, the sizes, the map of ids, the reward's id) is well under
	// one KB a transaction.
	p := DefaultParams()
	var txs []Tx
	for range 20 {
		txs = append(txs, transfer(t, 0, 5, 1, 0))
	}
	b := NewBlock(Header{Height: 1}, addr(7), p.Reward, txs)
	const runs = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, _, err := checkBlockBody(b, &p); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > uint64(len(txs))*1024 {
		t.Errorf("checkBlockBody allocates %d bytes for a block of %d transfers: its transactions' bytes are copied", per, len(txs))
	}
}
