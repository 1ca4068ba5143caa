package chain

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The worked example of docs/PROTOCOL.md: a fixed 1024-bit key
// (testdata/example_key.hex), a card purchase, a reward, their merkle root
// and a solved block-1 header. TestProtocolExample fails when the code and
// the document disagree; PYCOTR_PRINT_EXAMPLE=1 prints the values.

func exampleKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	b, err := os.ReadFile("testdata/example_key.hex")
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParsePrivateKey(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func exampleCard(t testing.TB) Card {
	t.Helper()
	c, err := NewCard(CardInput{Number: "4111 1111 1111 1111", Expiry: "2030-12", CVV: "123", Holder: "Ada Lovelace"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type exampleValue struct{ name, value string }

// exampleGenesisHash is the default network's genesis hash, the parent of
// the example block (genesis's TestProtocolExampleBuildsOnGenesis checks
// that it is the current one).
const exampleGenesisHash = "0000e3837d41c55926f8f0174678b1819e3c29a6e12a0a1ce793bb81d7d8db6e"

func protocolExample(t *testing.T) []exampleValue {
	k := exampleKey(t)
	a := AddressOf(&k.PublicKey)
	card := exampleCard(t)
	mintTx, err := NewMint(k, card, 250, 1, "5f0c2b9e-8a1d-4e7b-9c3f-2d6a1b0e4f77")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTxSanity(&mintTx, &Params{}); err != nil {
		t.Fatal(err)
	}
	sb := mintTx.SigningBytes()
	sbSum := sha256.Sum256(sb)
	prev, err := ParseHash(exampleGenesisHash)
	if err != nil {
		t.Fatal(err)
	}
	reward := NewReward(1, prev, a, 11)
	b := &Block{Txs: []Tx{reward, mintTx}, Header: Header{Version: BlockVersion, Height: 1, PrevHash: prev,
		Timestamp: 1648339260000, Bits: 16}}
	remerkle(b)
	solve(t, b)
	hdr := b.Header
	enc := hdr.Encode()
	var encLines []string
	for i := 0; i < HeaderSize; i += 32 {
		encLines = append(encLines, hex.EncodeToString(enc[i:i+32]))
	}
	return []exampleValue{
		{"address", string(a)},
		{"card", card.Masked + " " + card.Expiry},
		{"signing-bytes", strings.TrimSuffix(string(sb), "\n")},
		{"signing-bytes-sha256", hex.EncodeToString(sbSum[:])},
		{"signature", mintTx.Signature},
		{"tx-hash", mintTx.Hash().String()},
		{"reward-id", reward.ID},
		{"reward-hash", reward.Hash().String()},
		{"merkle-root", b.Header.MerkleRoot.String()},
		{"nonce", strings.TrimSpace(strings.Repeat(" ", 0) + itoa(hdr.Nonce))},
		{"header-hex", strings.Join(encLines, "\n")},
		{"block-hash", b.Hash().String()},
	}
}

func itoa(n uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

// docBlock returns the fenced block that follows <!-- example:name -->.
func docBlock(doc, name string) (string, bool) {
	marker := "<!-- example:" + name + " -->"
	i := strings.Index(doc, marker)
	if i < 0 {
		return "", false
	}
	rest := doc[i+len(marker):]
	open := strings.Index(rest, "```")
	if open < 0 {
		return "", false
	}
	rest = rest[open+3:]
	nl := strings.IndexByte(rest, '\n')
	rest = rest[nl+1:]
	end := strings.Index(rest, "\n```")
	if end < 0 {
		return "", false
	}
	return rest[:end], true
}

func TestProtocolExample(t *testing.T) {
	vals := protocolExample(t)
	if os.Getenv("PYCOTR_PRINT_EXAMPLE") == "1" {
		for _, v := range vals {
			t.Logf("<!-- example:%s -->\n```text\n%s\n```", v.name, v.value)
		}
	}
	doc, err := os.ReadFile("../docs/PROTOCOL.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vals {
		got, ok := docBlock(string(doc), v.name)
		if !ok {
			t.Errorf("docs/PROTOCOL.md lacks the example block %q", v.name)
			continue
		}
		if got != v.value {
			t.Errorf("docs/PROTOCOL.md example %q is stale:\n doc: %q\ncode: %q", v.name, got, v.value)
		}
	}
	// the header layout table: field offsets as documented
	h := Header{Version: 0x01020304, Height: 0x05, Timestamp: 0x06, Bits: 0x07, Nonce: 0x08}
	h.PrevHash[0], h.MerkleRoot[0] = 0xaa, 0xbb
	enc := h.Encode()
	for off, want := range map[int]byte{3: 0x04, 11: 0x05, 12: 0xaa, 44: 0xbb, 83: 0x06, 87: 0x07, 95: 0x08} {
		if enc[off] != want {
			t.Errorf("header byte %d = %#x, want %#x", off, enc[off], want)
		}
	}
}
