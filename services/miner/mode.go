package miner

import (
	"fmt"
	"time"
)

// Mode says how a miner paces its mining (DESIGN §4).
type Mode string

const (
	// ModePaced is the original's behaviour: wait the pause, then mine a
	// block on the best tip.
	ModePaced Mode = "paced"
	// ModePoisson draws each wait from an exponential distribution with the
	// pause as its mean, and draws again on every new tip: a model of a
	// hash-power race in which forks happen on their own.
	ModePoisson Mode = "poisson"
	// ModeRace hashes continuously with no pause.
	ModeRace Mode = "race"
)

// ParseMode reads a mode name; "" is ModePaced.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModePaced, ModePoisson, ModeRace:
		return m, nil
	case "":
		return ModePaced, nil
	}
	return "", fmt.Errorf("miner mode %q: want paced, poisson or race", s)
}

// MaxPause bounds the miner pause.
const MaxPause = 24 * time.Hour

// MaxHashRate bounds the hash-rate limit (far above what one core does).
const MaxHashRate = 1e10

// CheckPause refuses a pause outside 0 to MaxPause.
func CheckPause(d time.Duration) error {
	if d < 0 || d > MaxPause {
		return fmt.Errorf("pause %s: want 0 to %s", d, MaxPause)
	}
	return nil
}

// CheckHashRate refuses a hash-rate limit outside 0 (none) to MaxHashRate.
func CheckHashRate(r float64) error {
	if !(r >= 0 && r <= MaxHashRate) { // also refuses NaN
		return fmt.Errorf("miner hash rate %g: want 0 (no limit) to %g hashes/s", r, MaxHashRate)
	}
	return nil
}

// Settings are a miner's tunables, as a node's configuration gives them.
type Settings struct {
	Mode      Mode
	Pause     time.Duration
	Autostart bool    // mine from the start
	Workers   int     // proof-of-work goroutines; 0 = 1, <0 = all cores
	Seed      uint64  // for poisson waits; 0 = random
	HashRate  float64 // limit in hashes per second (the race mode's "power"); 0 = as fast as the CPU goes
}

// Normalize fills the default mode and checks the bounds.
func (s *Settings) Normalize() error {
	m, err := ParseMode(string(s.Mode))
	if err != nil {
		return err
	}
	s.Mode = m
	if s.Pause < 0 || s.Pause > MaxPause {
		return fmt.Errorf("miner pause %s: want 0 to %s", s.Pause, MaxPause)
	}
	return CheckHashRate(s.HashRate)
}
