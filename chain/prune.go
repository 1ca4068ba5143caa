package chain

import "container/heap"

// pruneSideLocked keeps the side branches within Config.MaxSideBytes: while
// the tree's blocks off the best chain weigh more, it removes the side
// leaf whose branch has the least work (the newest first among equals),
// leaf by leaf, so a branch is cut from its tip towards its fork point.
// keep (the block just stored) and so its whole branch are never pruned:
// a branch being fetched because it has more work survives however deep
// its fork. A pruned block leaves the tree (and the node's memory); sent
// again, it is checked again.
func (c *Chain) pruneSideLocked(keep *blockNode) {
	if c.treeBytes-c.mainBytes <= c.maxSideBytes {
		return
	}
	var leaves leafHeap
	for _, n := range c.index {
		if n.children == 0 && n != keep && !c.onMainLocked(n) {
			leaves = append(leaves, n)
		}
	}
	heap.Init(&leaves)
	for c.treeBytes-c.mainBytes > c.maxSideBytes && leaves.Len() > 0 {
		n := heap.Pop(&leaves).(*blockNode)
		delete(c.index, n.hash)
		c.treeBytes -= n.size
		p := n.parent
		p.children--
		if p.children == 0 && p != keep && !c.onMainLocked(p) {
			heap.Push(&leaves, p)
		}
	}
}

// leafHeap orders side leaves least work first, then newest first.
type leafHeap []*blockNode

func (h leafHeap) Len() int { return len(h) }
func (h leafHeap) Less(i, j int) bool {
	if d := h[i].work.Cmp(h[j].work); d != 0 {
		return d < 0
	}
	return h[i].seq > h[j].seq
}
func (h leafHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *leafHeap) Push(x any)   { *h = append(*h, x.(*blockNode)) }
func (h *leafHeap) Pop() any {
	old := *h
	n := old[len(old)-1]
	*h = old[:len(old)-1]
	return n
}
