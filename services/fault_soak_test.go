//go:build soak

package services

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"testing"
	"time"
)

// TestFaultLoadSoak is the one-minute load run (task soak).
func TestFaultLoadSoak(t *testing.T) {
	testkit.CheckGoroutines(t)
	runLoad(t, 60*time.Second)
}
