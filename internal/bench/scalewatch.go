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
// reached that node (its first block or side-block event: the node
// checked and stored it, whether or not it became the tip there) and when
// it joined that node's chain (its first block event), and which node
// mined which block. The times are the events' own, set by the node as it
// stored or connected the block: not when the watcher got round to
// reading it, which on a busy host can be tens of milliseconds later.
type blockWatch struct {
	mu      sync.Mutex
	arrived []map[string]time.Time // per node: block hash → first block or side-block event
	adopted []map[string]time.Time // per node: block hash → first block event
	mined   []minedBlock
	unsubs  []func()
	wg      sync.WaitGroup
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
	w := &blockWatch{arrived: make([]map[string]time.Time, len(nodes)), adopted: make([]map[string]time.Time, len(nodes))}
	for i, n := range nodes {
		w.arrived[i], w.adopted[i] = map[string]time.Time{}, map[string]time.Time{}
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
				if e.Kind != services.EventBlock && e.Kind != services.EventSideBlock {
					continue
				}
				w.mu.Lock()
				if _, ok := w.arrived[i][e.Hash]; !ok {
					w.arrived[i][e.Hash] = e.Time
				}
				if _, ok := w.adopted[i][e.Hash]; !ok && e.Kind == services.EventBlock {
					w.adopted[i][e.Hash] = e.Time
				}
				if e.Kind == services.EventBlock && e.Source == n.ID() {
					w.mined = append(w.mined, minedBlock{hash: e.Hash, height: e.Height, at: e.Time})
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

// blockDelays is what blocksBetween measured.
type blockDelays struct {
	// arrival: for each main-chain block, the time from its miner's event
	// until the last node had it (stored, as its tip or beside it):
	// propagation. Sorted.
	arrival []time.Duration
	// adoption: the same blocks, until the last node had each on its
	// chain (sorted). A block that tied another at some node (the rival
	// reached it first, and DESIGN §3 keeps the first seen) joins that
	// node's chain only with the next block on it, about one block
	// interval later: propagation plus the fork's resolution.
	adoption  []time.Duration
	contested int // main-chain blocks another mined block competed with at their height
	unreached int // main-chain blocks some node's feed never reported on its chain
	mined     int
	stale     int
}

// blocksBetween looks at the blocks mined from t0 to t1: those on main's
// chain give their delays, or count as unreached if a node never reported
// one on its chain; the others are stale.
func (w *blockWatch) blocksBetween(t0, t1 time.Time, main *chain.Chain) blockDelays {
	w.mu.Lock()
	defer w.mu.Unlock()
	var d blockDelays
	heights := map[uint64]int{} // blocks mined at each height, all of the run
	for _, m := range w.mined {
		heights[m.height]++
	}
	last := func(seen []map[string]time.Time, m minedBlock) (time.Duration, bool) {
		var worst time.Duration
		for _, node := range seen {
			t, ok := node[m.hash]
			if !ok {
				return 0, false
			}
			worst = max(worst, t.Sub(m.at))
		}
		return worst, true
	}
	for _, m := range w.mined {
		if m.at.Before(t0) || m.at.After(t1) {
			continue
		}
		d.mined++
		if blk, ok := main.BlockAt(m.height); !ok || blk.Hash().String() != m.hash {
			d.stale++
			continue
		}
		adopted, ok := last(w.adopted, m)
		if !ok {
			d.unreached++
			continue
		}
		arrived, _ := last(w.arrived, m) // every node that adopted it had it
		d.arrival = append(d.arrival, arrived)
		d.adoption = append(d.adoption, adopted)
		if heights[m.height] > 1 {
			d.contested++
		}
	}
	slices.Sort(d.arrival)
	slices.Sort(d.adoption)
	return d
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
