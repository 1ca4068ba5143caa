package chain

import "sync"

// generations is a bounded map that forgets in bulk what was not used
// lately: two generations of up to limit entries each. When the current
// one is full it becomes the old one (the previous old one is dropped),
// and an entry found in the old one moves back into the current one, so
// what is in use stays however much passes through. A look-up is a read
// lock and one or two map reads. The zero value is empty and ready.
type generations[K comparable, V any] struct {
	mu       sync.RWMutex
	cur, old map[K]V
}

func (g *generations[K, V]) get(k K, limit int) (V, bool) {
	g.mu.RLock()
	v, ok := g.cur[k]
	old := false
	if !ok {
		v, ok = g.old[k]
		old = ok
	}
	g.mu.RUnlock()
	if old {
		g.put(k, v, limit)
	}
	return v, ok
}

func (g *generations[K, V]) put(k K, v V, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cur == nil || len(g.cur) >= limit {
		g.old, g.cur = g.cur, make(map[K]V)
	}
	g.cur[k] = v
}
