package genesis

import (
	"bytes"
	"context"
	"testing"
)

// TestEmbeddedMatchesModel fails when genesis.json no longer matches what
// the generator makes from the default parameters: run `pycotr genesis`.
func TestEmbeddedMatchesModel(t *testing.T) {
	f, err := DefaultFile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, embedded) {
		t.Fatalf("genesis/genesis.json is stale; regenerate it with `go run ./cmd/pycotr genesis`\nwant:\n%s", want)
	}
}
