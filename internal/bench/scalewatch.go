package bench

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services"
)

// blockWatch records, from every node's event feed, when each block
// became part of that node's chain (the event's own time, set by the node
// as its chain connected the block: not when the watcher got round to
// reading it, which on a busy host can be tens of milliseconds later),
// and which node mined which block.
type blockWatch struct {
	mu     sync.Mutex
	seen   []map[string]time.Time // per node: block hash → first block event
	mined  []minedBlock
	unsubs []func()
	wg     sync.WaitGroup
}

type minedBlock struct {
	hash   string
	height uint64
	at     time.Time // the miner's own block event: solved and connected there
}

// watchBuffer is each node feed's buffer, in events: at the scale
// phase's load (about 11 events a second per node) 45 s.
const watchBuffer = 512

func watchBlocks(nodes []*services.Node) *blockWatch {
	w := &blockWatch{seen: make([]map[string]time.Time, len(nodes))}
	for i, n := range nodes {
		w.seen[i] = map[string]time.Time{}
		// A small buffer: the times come with the events, so a watcher
		// that lags costs the measurement nothing unless it falls
		// watchBuffer events behind (then its node reads as unreached).
		// A buffer of 1 << 14 events was 4.5 MB per node, 214 MB of heap
		// for the GC to scan at N = 48, in the process it measures; 512
		// are 7 MB.
		ch, unsub := n.Subscribe(watchBuffer)
		w.unsubs = append(w.unsubs, unsub)
		w.wg.Go(func() {
			for e := range ch {
				if e.Kind != services.EventBlock {
					continue
				}
				now := e.Time
				w.mu.Lock()
				if _, ok := w.seen[i][e.Hash]; !ok {
					w.seen[i][e.Hash] = now
				}
				if e.Source == n.ID() {
					w.mined = append(w.mined, minedBlock{hash: e.Hash, height: e.Height, at: now})
				}
				w.mu.Unlock()
			}
		})
	}
	return w
}

func (w *blockWatch) stop() {
	for _, u := range w.unsubs {
		u()
	}
	w.wg.Wait()
}

// blocksBetween looks at the blocks mined from t0 to t1: those on main's
// chain give each one's delay until the last node had it (sorted), or
// count as unreached if a node never reported it; the others are stale.
// clean are the delays of the main-chain blocks that no other mined block
// competed with at their height (sorted): a contested block reaches the
// chain of a node that took its competitor first only with the next block,
// so its delay is a fork's resolution, not a propagation.
func (w *blockWatch) blocksBetween(t0, t1 time.Time, main *chain.Chain) (delays, clean []time.Duration, unreached, mined, stale int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	heights := map[uint64]int{} // blocks mined at each height, all of the run
	for _, m := range w.mined {
		heights[m.height]++
	}
	for _, m := range w.mined {
		if m.at.Before(t0) || m.at.After(t1) {
			continue
		}
		mined++
		if blk, ok := main.BlockAt(m.height); !ok || blk.Hash().String() != m.hash {
			stale++
			continue
		}
		var worst time.Duration
		all := true
		for _, seen := range w.seen {
			t, ok := seen[m.hash]
			if !ok {
				all = false
				break
			}
			worst = max(worst, t.Sub(m.at))
		}
		if !all {
			unreached++
			continue
		}
		delays = append(delays, worst)
		if heights[m.height] == 1 {
			clean = append(clean, worst)
		}
	}
	slices.Sort(delays)
	slices.Sort(clean)
	return delays, clean, unreached, mined, stale
}

// txLoad submits pre-signed transactions, one every `every`, to the nodes
// in turn, until stopped or out of transactions.
type txLoad struct {
	cancel   context.CancelFunc
	done     chan struct{}
	sent     int
	rejected int
}

func startLoad(ctx context.Context, nodes []*services.Node, txs []chain.Tx, every time.Duration) *txLoad {
	ctx, cancel := context.WithCancel(ctx)
	l := &txLoad{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for i := range txs {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			l.sent++
			if err := nodes[i%len(nodes)].SubmitTx(&txs[i]); err != nil {
				l.rejected++
			}
		}
	}()
	return l
}

// stop ends the load and returns how many transactions it submitted and
// how many the nodes refused.
func (l *txLoad) stop() (sent, rejected int) {
	l.cancel()
	<-l.done
	return l.sent, l.rejected
}
