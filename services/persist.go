package services

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/pycotr/pycotr/chain"
)

// persister writes accepted blocks to the store from one goroutine, in
// the order they were accepted, several per fsynced transaction when they
// arrive faster than the disk syncs (sync, bursts). A crash loses at most
// the blocks still queued: the store always holds a prefix of what the
// node accepted, and each stored block is whole.
type persister struct {
	store *Store
	log   *slog.Logger
	queue chan *chain.Block
	done  chan struct{}
}

const persistQueue = 4096

func newPersister(s *Store, log *slog.Logger) *persister {
	p := &persister{store: s, log: log, queue: make(chan *chain.Block, persistQueue), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *persister) add(b *chain.Block) { p.queue <- b }

func (p *persister) run() {
	defer close(p.done)
	for b := range p.queue {
		batch := []*chain.Block{b}
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
		if err := p.store.PutBlocks(batch); err != nil {
			p.log.Error("persist blocks", "count", len(batch), "err", err)
		}
	}
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
	key, replaced, err := s.Identity(n.cfg.NodeKey, n.chain.GenesisHash())
	if err == nil {
		err = n.setIdentity(key)
	}
	if err != nil {
		s.Close()
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	if replaced != "" {
		n.log.Warn("node id replaced: ids are now derived from a node key kept in the data directory",
			"old", replaced, "new", n.ID())
	}
	replayed, rejected := 0, 0
	err = s.Blocks(func(b *chain.Block) error {
		if _, err := n.chain.ProcessRequestedBlock(b); err != nil && !errors.Is(err, chain.ErrDuplicateBlock) {
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
	if err := n.restorePool(dir); err != nil {
		s.Close()
		return fmt.Errorf("data dir %s: %w", dir, err)
	}
	n.persist = newPersister(s, n.log)
	return nil
}

// restorePool re-admits the stored pending transactions, in arrival
// order, through the chain's full checks against the restored tip, then
// rewrites the log with what was admitted. What no longer fits is dropped
// and counted by reason: "confirmed" (a stored block holds it), or the
// rule it now breaks (spent elsewhere, an expired card, a smaller pool).
func (n *Node) restorePool(dir string) error {
	stored, torn, err := readTxLog(dir)
	if err != nil {
		return fmt.Errorf("read mempool log: %w", err)
	}
	dropped := map[string]int{}
	for i := range stored {
		if err := n.chain.AcceptTx(&stored[i]); err != nil {
			r := reason(err)
			if errors.Is(err, chain.ErrDuplicateTx) {
				r = "confirmed"
			}
			dropped[r]++
			continue
		}
		n.stats.poolRestored.Add(1)
	}
	total := 0
	for r, c := range dropped {
		n.stats.restoreDrop(r, c)
		total += c
	}
	count := func() int { c, _ := n.chain.MempoolStats(); return c }
	if n.txlog, err = openTxLog(dir, n.chain.Pending, count, &n.stats, n.log); err != nil {
		return err
	}
	n.log.Info("mempool restored", "pending", n.stats.poolRestored.Load(), "dropped", total, "reasons", dropped, "torn_tail", torn)
	return nil
}
