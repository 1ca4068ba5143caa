package services

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/pycotr/pycotr/chain"
)

// persistItem is one change to the store, in the order the node made it:
// a block it accepted, and what that block did to the mempool.
type persistItem struct {
	block *chain.Block // nil: only pool changes
	put   []chain.Tx   // pending again: returned to the mempool by a reorg
	del   []chain.Hash // pending no more: confirmed, or invalidated
}

// persister writes accepted blocks, and the pool changes they cause, to
// the store from one goroutine, in the order they were accepted, several
// per fsynced transaction when they arrive faster than the disk syncs
// (sync, bursts). A crash loses at most the items still queued: the store
// always holds a prefix of what the node accepted, each stored block is
// whole, and a pending transaction is forgotten only in the transaction
// that stores the block confirming it (or after).
type persister struct {
	store *Store
	log   *slog.Logger
	queue chan persistItem
	done  chan struct{}
}

const persistQueue = 4096

func newPersister(s *Store, log *slog.Logger) *persister {
	p := &persister{store: s, log: log, queue: make(chan persistItem, persistQueue), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *persister) add(it persistItem) { p.queue <- it }

func (p *persister) run() {
	defer close(p.done)
	for it := range p.queue {
		batch := []persistItem{it}
	more:
		for len(batch) < 512 {
			select {
			case nb, ok := <-p.queue:
				if !ok {
					break more
				}
				batch = append(batch, nb)
			default:
				break more
			}
		}
		blocks, put, del := flatten(batch)
		if err := p.store.Write(blocks, put, del); err != nil {
			p.log.Error("persist blocks", "count", len(blocks), "err", err)
		}
	}
}

// flatten turns items into one write: their blocks in order, and each
// transaction's last pool change (a put then a delete is a delete, and
// the reverse a put).
func flatten(batch []persistItem) (blocks []*chain.Block, put []chain.Tx, del []chain.Hash) {
	last := make(map[chain.Hash]*chain.Tx) // nil: delete
	var order []chain.Hash
	note := func(h chain.Hash, tx *chain.Tx) {
		if _, seen := last[h]; !seen {
			order = append(order, h)
		}
		last[h] = tx
	}
	for _, it := range batch {
		if it.block != nil {
			blocks = append(blocks, it.block)
		}
		for i := range it.put {
			note(it.put[i].Hash(), &it.put[i])
		}
		for _, h := range it.del {
			note(h, nil)
		}
	}
	for _, h := range order {
		if tx := last[h]; tx != nil {
			put = append(put, *tx)
		} else {
			del = append(del, h)
		}
	}
	return blocks, put, del
}

// close writes what is queued and closes the store.
func (p *persister) close() error {
	close(p.queue)
	<-p.done
	return p.store.Close()
}

// openStore opens the data directory, settles the node's identity,
// replays the stored blocks into the chain and restores the mempool. A
// damaged block entry ends the replay: the chain is the valid prefix
// before it.
func (n *Node) openStore(dir string) error {
	s, err := OpenStore(dir)
	if err != nil {
		return err
	}
	id, err := s.Identity(n.cfg.ID, n.chain.GenesisHash())
	if err != nil {
		s.Close()
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	n.cfg.ID = id
	replayed, rejected := 0, 0
	err = s.Blocks(func(b *chain.Block) error {
		if _, err := n.chain.ProcessBlock(b); err != nil && !errors.Is(err, chain.ErrDuplicateBlock) {
			rejected++
			return nil
		}
		replayed++
		return nil
	})
	if err != nil {
		n.log.Warn("store replay stopped at a damaged entry; continuing from the valid prefix", "err", err)
	}
	n.log.Info("chain restored", "dir", dir, "blocks", replayed, "rejected", rejected, "height", n.chain.Height())
	if err := n.restorePool(s); err != nil {
		s.Close()
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	n.persist = newPersister(s, n.log)
	n.txlog = newGroupCommit(txlogQueue, txlogBatch, s.PutPending)
	return nil
}

// restorePool re-admits the stored pending transactions, in arrival
// order, through the chain's full checks against the restored tip. What no
// longer fits (confirmed meanwhile, spent elsewhere, an expired card, a
// smaller pool) is dropped, counted by reason and forgotten by the store.
func (n *Node) restorePool(s *Store) error {
	stored, drop, err := s.Pending()
	if err != nil {
		return fmt.Errorf("read pending transactions: %w", err)
	}
	dropped := map[string]int{}
	if len(drop) > 0 {
		dropped["damaged"] = len(drop)
	}
	for i := range stored {
		if err := n.chain.AcceptTx(&stored[i].Tx); err != nil {
			dropped[reason(err)]++
			drop = append(drop, stored[i].Hash)
			continue
		}
		n.stats.poolRestored.Add(1)
	}
	for r, c := range dropped {
		n.stats.restoreDrop(r, c)
	}
	if len(drop) > 0 {
		if err := s.DeletePending(drop); err != nil {
			return fmt.Errorf("forget dropped pending transactions: %w", err)
		}
	}
	n.log.Info("mempool restored", "pending", n.stats.poolRestored.Load(), "dropped", len(drop), "reasons", dropped)
	return nil
}
