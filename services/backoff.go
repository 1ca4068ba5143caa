package services

import (
	"sync"
	"time"
)

// Sync backoff: a peer whose sync page failed (timeout, no responder,
// garbage, an invalid block) or brought nothing new while it claimed more
// work than ours is not asked again for a while: 1 s after its first
// strike, doubling with each further one, at most backoffMax. It is
// heard again when that time is over, and a peer quiet for backoffMax
// after its last backoff ended is forgotten (its strikes start again).
const (
	backoffBase    = time.Second
	backoffMax     = 2 * time.Minute
	backoffEntries = 4096 // bound on the peers remembered
)

// peerBackoff is the set of peers backed off, safe for concurrent use.
type peerBackoff struct {
	mu sync.Mutex
	m  map[string]strike
}

type strike struct {
	n     int
	until time.Time
}

// active reports whether peer is backed off at now.
func (b *peerBackoff) active(peer string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.m[peer]
	return ok && now.Before(s.until)
}

// penalize adds a strike to peer and returns how long it is backed off.
func (b *peerBackoff) penalize(peer string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m == nil {
		b.m = make(map[string]strike)
	}
	s := b.m[peer]
	if !s.until.IsZero() && now.Sub(s.until) > backoffMax {
		s.n = 0 // quiet long enough: forgiven
	}
	s.n++
	d := backoffMax
	if s.n <= 8 { // 1 s << 7 = 128 s, over the cap already
		d = min(backoffBase<<(s.n-1), backoffMax)
	}
	s.until = now.Add(d)
	if len(b.m) >= backoffEntries {
		for p, o := range b.m {
			if !now.Before(o.until) {
				delete(b.m, p)
			}
		}
	}
	if len(b.m) < backoffEntries {
		b.m[peer] = s
	}
	return d
}

// strikes is peer's count of failures not yet forgiven.
func (b *peerBackoff) strikes(peer string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[peer].n
}

// clear forgets peer's strikes (it served us blocks).
func (b *peerBackoff) clear(peer string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, peer)
}
