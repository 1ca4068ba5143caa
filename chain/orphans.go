package chain

// orphanPool keeps blocks whose parent is not known yet, bounded, oldest
// evicted first.
type orphanPool struct {
	max      int
	blocks   map[Hash]*Block
	byParent map[Hash][]Hash
	order    []Hash
}

func newOrphanPool(max int) orphanPool {
	return orphanPool{max: max, blocks: make(map[Hash]*Block), byParent: make(map[Hash][]Hash)}
}

func (o *orphanPool) has(h Hash) bool { _, ok := o.blocks[h]; return ok }

func (o *orphanPool) len() int { return len(o.blocks) }

func (o *orphanPool) add(h Hash, b *Block) {
	for len(o.blocks) >= o.max && len(o.order) > 0 {
		old := o.order[0]
		o.order = o.order[1:]
		o.take(old)
	}
	o.blocks[h] = b
	o.byParent[b.Header.PrevHash] = append(o.byParent[b.Header.PrevHash], h)
	o.order = append(o.order, h)
}

// take removes and returns an orphan.
func (o *orphanPool) take(h Hash) *Block {
	b, ok := o.blocks[h]
	if !ok {
		return nil
	}
	delete(o.blocks, h)
	sib := o.byParent[b.Header.PrevHash]
	for i, s := range sib {
		if s == h {
			sib = append(sib[:i], sib[i+1:]...)
			break
		}
	}
	if len(sib) == 0 {
		delete(o.byParent, b.Header.PrevHash)
	} else {
		o.byParent[b.Header.PrevHash] = sib
	}
	for i, s := range o.order {
		if s == h {
			o.order = append(o.order[:i], o.order[i+1:]...)
			break
		}
	}
	return b
}

func (o *orphanPool) children(parent Hash) []Hash {
	return append([]Hash(nil), o.byParent[parent]...)
}

// missingRoot follows orphan parents up to the first block not held.
func (o *orphanPool) missingRoot(h Hash) Hash {
	for {
		b, ok := o.blocks[h]
		if !ok {
			return h
		}
		h = b.Header.PrevHash
	}
}
