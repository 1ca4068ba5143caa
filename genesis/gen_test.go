package genesis

import (
	"bytes"
	"context"
	"testing"
)

// TestEmbeddedMatchesModel fails when an embedded genesis file no longer
// matches what the generator makes from its profile's parameters: run
// `go run ./cmd/pycotr genesis`.
func TestEmbeddedMatchesModel(t *testing.T) {
	for _, pr := range Profiles {
		t.Run(pr.Name, func(t *testing.T) {
			f, err := ProfileFile(context.Background(), pr)
			if err != nil {
				t.Fatal(err)
			}
			want, err := f.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(want, pr.data) {
				t.Fatalf("%s is stale; regenerate it with `go run ./cmd/pycotr genesis`\nwant:\n%s", pr.File, want)
			}
		})
	}
}

func TestLoadProfileByName(t *testing.T) {
	f, err := Load("retarget")
	if err != nil {
		t.Fatal(err)
	}
	if f.Params.Retarget == nil || f.Params.Network != "pycotr-retarget" {
		t.Fatalf("got %+v", f.Params)
	}
	if _, err := Load("no-such-profile"); err == nil {
		t.Fatal("an unknown profile loaded")
	}
}
