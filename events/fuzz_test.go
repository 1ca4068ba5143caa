package events

import (
	"errors"
	"reflect"
	"testing"
)

// fuzzDecode checks a decoder on arbitrary input: no panic, the size limit
// holds, and whatever decodes survives an encode/decode round trip
// unchanged (what a node relays is what it accepted).
func fuzzDecode[T any](f *testing.F, limit int, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v T
		err := Decode(data, limit, &v)
		if len(data) > limit {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("%d bytes over the %d limit: err %v", len(data), limit, err)
			}
			return
		}
		if err != nil {
			return
		}
		enc, err := Encode(v)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var w T
		if err := Decode(enc, len(enc), &w); err != nil {
			t.Fatalf("decode of our own encoding %s: %v", enc, err)
		}
		if !reflect.DeepEqual(v, w) {
			t.Fatalf("round trip changed the value:\n%#v\n%#v", v, w)
		}
	})
}

const fuzzAddr = "30819f300d06092a864886f70d010101050003818d0030818902818100"

func FuzzDecodeTxMessage(f *testing.F) {
	fuzzDecode[TxMessage](f, MaxTxMessage,
		`{"tx":{"type":"transfer","id":"6f1c2c1e-3b7a-4c57-9b59-0e5f0b3f3a11","from":"`+fuzzAddr+`","to":"ab","amount":5,"fee":1,"signature":"00ff"}}`,
		`{"tx":{"type":"mint","id":"x","from":"a","to":"a","amount":5,"fee":0,"card":{"masked":"**** 1111","expiry":"2099-12","holder":"T","digest":"00"}}}`,
		`{"tx":{"amount":"ten"}}`,
		`{"tx":{}} {}`,
	)
}

func FuzzDecodeTxBatchMessage(f *testing.F) {
	fuzzDecode[TxBatchMessage](f, MaxTxBatchMessage,
		`{"txs":[{"type":"transfer","id":"6f1c2c1e-3b7a-4c57-9b59-0e5f0b3f3a11","from":"`+fuzzAddr+`","to":"ab","amount":5,"fee":1,"signature":"00ff"},{"type":"transfer","id":"b","from":"a","to":"c","amount":1,"fee":0,"signature":"01"}]}`,
		`{"txs":[]}`,
		`{"txs":null}`,
		`{"txs":[{"amount":"ten"}]}`,
		`{"txs":[{}],"tx":{}}`,
	)
}

func FuzzDecodeBlockMessage(f *testing.F) {
	fuzzDecode[BlockMessage](f, MaxBlockMessage,
		`{"block":{"header":{"version":1,"height":1,"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000","merkle_root":"0000000000000000000000000000000000000000000000000000000000000000","timestamp":1,"bits":8,"nonce":3},"transactions":[{"type":"reward","id":"r","to":"ab","amount":10,"fee":0}]},"hash":"0000000000000000000000000000000000000000000000000000000000000000"}`,
		`{"block":{"header":{},"transactions":null},"hash":"zz"}`,
		`{"block":{"header":{"height":-1}}}`,
	)
}

func FuzzDecodeNodeState(f *testing.F) {
	fuzzDecode[NodeState](f, MaxPresenceMessage,
		`{"node_id":"n1","name":"node-1","url":"http://127.0.0.1:3001","chain_id":"n1","height":3,"tip":"0000000000000000000000000000000000000000000000000000000000000000","work":"1024","pause":0.5,"mode":"paced","mining":true,"blocks_mined":2,"mempool":0,"peers":2,"version":"0.1.0"}`,
		`{"work":12345678901234567890123}`,
		`{"pause":-0}`,
	)
}

func FuzzDecodeBlocksRequest(f *testing.F) {
	fuzzDecode[BlocksRequest](f, MaxRequestMessage,
		`{"locator":["0000000000000000000000000000000000000000000000000000000000000000"],"max_blocks":10,"max_bytes":1000}`,
		`{"locator":null,"max_blocks":-1,"max_bytes":0}`,
		`{"locator":[1]}`,
	)
}
