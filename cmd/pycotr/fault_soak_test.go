//go:build soak

package main

import (
	"testing"
	"time"
)

// TestFaultCrashRestartSoak: 100 kill -9 rounds (task soak).
func TestFaultCrashRestartSoak(t *testing.T) {
	start := time.Now()
	r := runCrashRounds(t, 100, 1)
	t.Logf("%d kill -9 rounds in %s: last restored height %d, at most %d blocks behind; %d purchases accepted, %d lost; final catch-up %s",
		r.rounds, time.Since(start).Round(time.Second), r.lastRestored, r.maxBehind, r.accepted, r.lost, r.catchUp.Round(time.Millisecond))
}
