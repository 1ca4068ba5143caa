// Package generations is a bounded map that forgets in bulk what was not
// used lately. chain keeps its signature cache in one, rsaverify its key
// cache. It imports only the standard library.
package generations

import "sync"

// Map is two generations of up to limit entries each. When the current
// one is full it becomes the old one (the previous old one is dropped),
// and an entry found in the old one moves back into the current one, so
// what is in use stays however much passes through. A look-up is a read
// lock and one or two map reads. The zero value is empty and ready; give
// every call on one Map the same limit.
type Map[K comparable, V any] struct {
	mu       sync.RWMutex
	cur, old map[K]V
}

// Get returns the value kept for k, if any.
func (g *Map[K, V]) Get(k K, limit int) (V, bool) {
	g.mu.RLock()
	v, ok := g.cur[k]
	old := false
	if !ok {
		v, ok = g.old[k]
		old = ok
	}
	g.mu.RUnlock()
	if old {
		g.Put(k, v, limit)
	}
	return v, ok
}

// Put keeps v for k in the current generation.
func (g *Map[K, V]) Put(k K, v V, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur == nil || len(g.cur) >= limit {
		g.old, g.cur = g.cur, make(map[K]V)
	}
	g.cur[k] = v
}

// Len is the number of entries held, both generations.
func (g *Map[K, V]) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.cur) + len(g.old)
}
