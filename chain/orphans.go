package chain

// orphanPool holds blocks whose parent is not known yet, bounded in count
// and in bytes, oldest evicted first. It lives in memory only: an orphan
// is never written to a node's data directory.
type orphanPool struct {
	max, maxBytes int
	bytes         int
	blocks        map[Hash]orphan
	byParent      map[Hash][]Hash
	order         []Hash
}

type orphan struct {
	b    *Block
	size int
}

func newOrphanPool(max, maxBytes int) orphanPool {
	return orphanPool{max: max, maxBytes: maxBytes, blocks: make(map[Hash]orphan), byParent: make(map[Hash][]Hash)}
}

func (o *orphanPool) has(h Hash) bool { _, ok := o.blocks[h]; return ok }

func (o *orphanPool) len() int { return len(o.blocks) }

// add holds b (of Block.Size size), evicting the oldest orphans until it
// fits; a block larger than the whole budget is not held.
func (o *orphanPool) add(h Hash, b *Block, size int) {
	if size > o.maxBytes {
		return
	}
	for (len(o.blocks) >= o.max || o.bytes+size > o.maxBytes) && len(o.order) > 0 {
		o.take(o.order[0])
	}
	o.blocks[h] = orphan{b: b, size: size}
	o.bytes += size
	o.byParent[b.Header.PrevHash] = append(o.byParent[b.Header.PrevHash], h)
	o.order = append(o.order, h)
}

// take removes and returns an orphan and its size.
func (o *orphanPool) take(h Hash) (*Block, int) {
	e, ok := o.blocks[h]
	if !ok {
		return nil, 0
	}
	b := e.b
	delete(o.blocks, h)
	o.bytes -= e.size
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
	return b, e.size
}

func (o *orphanPool) children(parent Hash) []Hash {
	return append([]Hash(nil), o.byParent[parent]...)
}

// missingRoot follows orphan parents up to the first block not held.
func (o *orphanPool) missingRoot(h Hash) Hash {
	for {
		e, ok := o.blocks[h]
		if !ok {
			return h
		}
		h = e.b.Header.PrevHash
	}
}
