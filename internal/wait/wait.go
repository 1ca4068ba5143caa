// Package wait polls a condition until it holds, a deadline passes or a
// context ends: the one polling loop that commands, the benchmark and
// (through testkit.Eventually) tests share. It imports only the standard
// library.
package wait

import (
	"context"
	"time"
)

// For checks cond at once and then every interval until it holds, and
// reports whether it did; it gives up when within has passed or ctx is
// done. cond runs on the caller's goroutine.
func For(ctx context.Context, within, interval time.Duration, cond func() bool) bool {
	if cond() {
		return true
	}
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return cond()
		case <-tick.C:
			if cond() {
				return true
			}
		}
	}
}
