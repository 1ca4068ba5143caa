//go:build soak

package services

import (
	"testing"
	"time"
)

// TestFaultLoadSoak is the one-minute load run (task soak).
func TestFaultLoadSoak(t *testing.T) {
	checkGoroutines(t)
	runLoad(t, 60*time.Second)
}
