package wait

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	ctx := context.Background()
	t.Run("holds at once", func(t *testing.T) {
		calls := 0
		if !For(ctx, time.Hour, time.Hour, func() bool { calls++; return true }) || calls != 1 {
			t.Fatalf("want true after one call, got %d calls", calls)
		}
	})
	t.Run("holds later", func(t *testing.T) {
		var n atomic.Int64
		if !For(ctx, time.Minute, time.Millisecond, func() bool { return n.Add(1) >= 5 }) {
			t.Fatal("want true once cond holds")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		if For(ctx, 20*time.Millisecond, time.Millisecond, func() bool { return false }) {
			t.Fatal("want false after the deadline")
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if For(cctx, time.Hour, time.Hour, func() bool { return false }) {
			t.Fatal("want false on a cancelled context")
		}
	})
}
