package events

import (
	"errors"
	"strings"
	"testing"

	"github.com/pycotr/pycotr/chain"
)

func TestDecodeStrict(t *testing.T) {
	valid := `{"locator":["` + strings.Repeat("00", 32) + `"],"max_blocks":5,"max_bytes":100}`
	tests := []struct {
		name    string
		data    string
		limit   int
		wantErr bool
		tooBig  bool
	}{
		{"valid", valid, 1024, false, false},
		{"valid with spaces around", "  " + valid + "\n ", 1024, false, false},
		{"unknown field", `{"locator":[],"max_blocks":1,"max_bytes":1,"extra":true}`, 1024, true, false},
		{"trailing value", valid + valid, 1024, true, false},
		{"trailing garbage", valid + "x", 1024, true, false},
		{"wrong type", `{"locator":"abc","max_blocks":1,"max_bytes":1}`, 1024, true, false},
		{"bad hash", `{"locator":["zz"],"max_blocks":1,"max_bytes":1}`, 1024, true, false},
		{"number overflow", `{"locator":[],"max_blocks":1e400,"max_bytes":1}`, 1024, true, false},
		{"truncated", valid[:len(valid)-1], 1024, true, false},
		{"empty", ``, 1024, true, false},
		{"not an object", `[]`, 1024, true, false},
		{"field twice", `{"locator":[],"max_blocks":1,"max_blocks":2,"max_bytes":1}`, 1024, true, false},
		{"name in another case", `{"Locator":[],"max_blocks":1,"max_bytes":1}`, 1024, true, false},
		{"invalid UTF-8", "{\"locator\":[],\"max_blocks\":1,\"max_bytes\":1,\"x\xff\":1}", 1024, true, false},
		{"fraction for an integer", `{"locator":[],"max_blocks":1.5,"max_bytes":1}`, 1024, true, false},
		{"over the limit", valid, len(valid) - 1, true, true},
		{"at the limit", valid, len(valid), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r BlocksRequest
			err := Decode([]byte(tt.data), tt.limit, &r)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Decode error = %v, want error %v", err, tt.wantErr)
			}
			if errors.Is(err, ErrTooLarge) != tt.tooBig {
				t.Errorf("errors.Is(err, ErrTooLarge) = %v, want %v", !tt.tooBig, tt.tooBig)
			}
		})
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := BlockMessage{Block: chain.Block{
		Header: chain.Header{Version: 1, Height: 3, Timestamp: 1648339200001, Bits: 8, Nonce: 42},
		Txs:    []chain.Tx{chain.NewReward(3, chain.Hash{}, "ab", 10)},
	}}
	in.Hash = in.Block.Hash()
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	var out BlockMessage
	if err := Decode(data, MaxBlockMessage, &out); err != nil {
		t.Fatal(err)
	}
	if out.Hash != in.Hash || out.Block.Hash() != in.Hash || len(out.Block.Txs) != 1 || out.Block.Txs[0] != in.Block.Txs[0] {
		t.Errorf("round trip changed the message: %+v", out)
	}
}
