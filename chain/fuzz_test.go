package chain

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/pycotr/pycotr/chain/internal/powsearch"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; they run with every
// `go test`. Explore with: go test ./chain -run XXX -fuzz FuzzTxJSON

func fuzzParams() *Params {
	p := testParams()
	return &p
}

func FuzzTxJSON(f *testing.F) {
	f.Add([]byte(`{"type":"transfer","id":"00000000-0000-4000-8000-000000000000","to":"00","amount":1,"fee":0}`))
	p := fuzzParams()
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var tx Tx
		if err := dec.Decode(&tx); err != nil {
			return
		}
		err := CheckTxSanity(&tx, p)
		_ = tx.Hash()
		if err != nil {
			if _, ok := AsRuleError(err); !ok {
				t.Fatalf("error without a rule: %v", err)
			}
			return
		}
		// a sane transaction re-encodes to one with the same hash
		js, err := json.Marshal(&tx)
		if err != nil {
			t.Fatal(err)
		}
		var back Tx
		if err := json.Unmarshal(js, &back); err != nil || back.Hash() != tx.Hash() {
			t.Fatalf("re-encoding changed the tx: %v", err)
		}
	})
}

func FuzzBlockJSON(f *testing.F) {
	f.Add([]byte(`{"header":{"version":1,"height":1,"bits":0},"transactions":[]}`))
	p := fuzzParams()
	p.Bits = 0
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		var b Block
		if err := dec.Decode(&b); err != nil {
			return
		}
		err := CheckBlockSanity(&b, p, t0+365*day)
		if err != nil {
			if _, ok := AsRuleError(err); !ok {
				t.Fatalf("error without a rule: %v", err)
			}
		}
		_ = b.Size()
		_ = b.Hash()
	})
}

func FuzzHeaderDecode(f *testing.F) {
	h := Header{Version: 1, Height: 7, Timestamp: t0, Bits: 16, Nonce: 99}
	enc := h.Encode()
	f.Add(enc[:])
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := DecodeHeader(data)
		if err != nil {
			if len(data) == HeaderSize {
				t.Fatalf("a %d-byte input was rejected: %v", HeaderSize, err)
			}
			return
		}
		enc := h.Encode()
		if !bytes.Equal(enc[:], data) {
			t.Fatalf("round trip differs:\n%x\n%x", data, enc)
		}
		ms, err := powsearch.New(&enc)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := ms.Hash(h.Nonce); got != h.Hash() {
			t.Fatal("midstate differs from Hash")
		}
	})
}
