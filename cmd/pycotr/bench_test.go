package main

import (
	"bytes"
	"context"
	"testing"
)

// The flags are checked before anything runs: internal/bench's tests run
// the phases.
func TestBenchFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runBench(context.Background(), []string{"--only", "nope"}, &out, &errOut); err == nil {
		t.Fatal("--only nope: want a usage error")
	} else if _, ok := err.(errUsage); !ok {
		t.Fatalf("--only nope: %v, want a usage error", err)
	}
	if err := runBench(context.Background(), []string{"extra"}, &out, &errOut); err == nil {
		t.Fatal("an argument: want a usage error")
	}
}
