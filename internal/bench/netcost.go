package bench

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// The original's sync cost (BASELINE.md).
const (
	originalChainAt136   = 596_000 // bytes of /get_blockchain at height 136
	originalPeersPerSync = 2       // a miner downloads each peer's whole chain
)

// netcost: NATS bytes for one new block mined by node 1 at several chain
// heights, counted by an events.TrafficCounter (a subscriber to
// '<prefix>.>' and '_INBOX.>').
func (b *runner) netcost(ctx context.Context) error {
	g, err := benchGenesis(ctx, 6)
	if err != nil {
		return err
	}
	cfgs := make([]services.Config, 3)
	for i := range cfgs {
		// No periodic consensus check or inventory exchange inside a
		// window: each is a cost per interval, not per block (and no round
		// follows a mined block). SCALING.md counts them per second.
		cfgs[i].ConsensusInterval = time.Hour
		cfgs[i].InventoryInterval = time.Hour
		cfgs[i].GatherStall = 100 * time.Millisecond
	}
	cfgs[0].Miner = miner.Settings{Pause: 300 * time.Millisecond}
	net, err := startNet(ctx, g, cfgs, false)
	if err != nil {
		return err
	}
	defer net.Close()
	counter, err := events.CountTraffic(net.cl.Server, events.Subjects{Prefix: events.DefaultPrefix})
	if err != nil {
		return err
	}
	defer counter.Close()
	nodes, chains := net.cl.Nodes, net.chains()
	filler := fakeAddress(1024)
	ch, unsub := nodes[0].Subscribe(1 << 12)
	defer unsub()
	var perBlock []float64
	last := b.sz.netHeights[len(b.sz.netHeights)-1]
	for _, h := range b.sz.netHeights {
		for chains[0].Height() < h-1 {
			if _, err := extend(ctx, chains, filler, nil); err != nil {
				return err
			}
			b.prog.tick("filler blocks", int(chains[0].Height()), int(last))
		}
		// Building the filler keeps the chains busy, and a beat that waits
		// for one may come after its sender has expired from a peer table:
		// its return is a peer-up, which starts an inventory exchange (a
		// cost per peer arrival, not per block). Every node lists both
		// others before the window opens.
		if !wait.For(ctx, 20*time.Second, 10*time.Millisecond, func() bool {
			for _, n := range nodes {
				if len(n.Peers().List()) != len(nodes)-1 {
					return false
				}
			}
			return true
		}) {
			return fmt.Errorf("the nodes do not all list each other at height %d", h)
		}
		time.Sleep(300 * time.Millisecond) // let any presence-triggered sync settle
		counter.Reset()
		start := time.Now()
		nodes[0].Miner().Start()
		var mined string
		timeout := time.After(30 * time.Second)
		for mined == "" {
			select {
			case e, ok := <-ch:
				if !ok {
					return fmt.Errorf("node 1's event feed closed")
				}
				if e.Kind == services.EventBlock && e.Source == nodes[0].ID() && e.Height == h {
					mined = e.Hash
				}
			case <-timeout:
				return fmt.Errorf("node 1 mined no block at height %d", h)
			}
		}
		nodes[0].Miner().Stop()
		if !wait.For(ctx, 10*time.Second, time.Millisecond, func() bool {
			return chains[1].Height() >= h && chains[2].Height() >= h
		}) {
			return fmt.Errorf("block %d did not reach every node", h)
		}
		time.Sleep(700 * time.Millisecond) // anything the block causes (a sync) is counted
		window := time.Since(start)
		counts := counter.Counts()
		var total int64
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(counts)) {
			if k != "presence" {
				total += counts[k].Bytes
			}
			parts = append(parts, fmt.Sprintf("%s %d B/%d", k, counts[k].Bytes, counts[k].Msgs))
		}
		blk, _ := chains[0].BlockAt(h)
		enc, err := events.Encode(events.BlockMessage{Block: *blk, Hash: blk.Hash()})
		if err != nil {
			return err
		}
		perBlock = append(perBlock, float64(total))
		b.fig("netcost", fmt.Sprintf("bytes_at_height_%d", h), float64(total), "B",
			fmt.Sprintf("presence excluded; %s; block message %d B; %.1fs window", strings.Join(parts, ", "), len(enc), window.Seconds()))
	}
	lo, hi := slices.Min(perBlock), slices.Max(perBlock)
	b.goal("netcost", "flat_ratio", hi/lo, "× (max/min)", 1.10, true,
		fmt.Sprintf("heights %v", b.sz.netHeights))
	b.fig("netcost", "vs_original_at_136", float64(originalChainAt136*originalPeersPerSync)/perBlock[0], "×",
		fmt.Sprintf("original: 2 × 596 KB whole-chain downloads per block at height 136, ours at height %d", b.sz.netHeights[0]))
	return nil
}
