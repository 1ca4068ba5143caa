package services

import (
	"github.com/pycotr/pycotr/internal/testkit"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/chain/chaintest"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/services/miner"
)

// TestRaceModeRetargetsTowardTheTarget runs three race-mode miners of
// unequal power (40k, 80k and 120k hashes/s) on a network that retargets
// every 20 blocks toward 250 ms a block, starting far too easy (8 bits).
//
// What the rule controls is the difficulty; block times around it are
// exponential (a 10-block mean varies by ±32 % on its own, a 20-block one
// by ±22 %: with 10-block windows the dead band is crossed by chance about
// one window in ten, so the test uses 20). So the test
// asserts: (1) over the last four windows the rule holds (median) the bits
// closest to the ideal work per block (240k h/s × 0.25 s = 2^15.87 → 16
// bits), whose expected block time 2^16 / 240k = 273 ms is within ±25 % of
// the target; (2) the observed
// mean interval over the last 40 blocks is within ±50 % of
// the target (a 3-sigma band for 40 exponential draws plus the 9 % that
// whole bits cost); (3) every node holds the same chain, so every node
// agrees on every block's bits (each checked them on receipt); (4) each
// miner's share of the last 50 blocks is within ±0.2 of its share of the
// hash power (about 3 binomial standard deviations for the largest).
func TestRaceModeRetargetsTowardTheTarget(t *testing.T) {
	testkit.CheckGoroutines(t)
	p := chain.DefaultParams()
	p.Bits = 8
	p.MaxFutureMillis = 15_000
	p.Retarget = &chain.RetargetParams{Every: 20, TargetBlockMillis: 250, MaxStepBits: 2, MinBits: 8, MaxBits: 40}
	g := chaintest.Genesis(t, p)
	srv := startServer(t, events.ServerConfig{})
	rates := []float64{40_000, 80_000, 120_000}
	var nodes []*Node
	for i, r := range rates {
		cfg := testNodeConfig(t, i, g)
		cfg.Embedded = srv
		cfg.Miner = miner.Settings{Mode: miner.ModeRace, HashRate: r}
		nodes = append(nodes, startNode(t, cfg))
	}
	for _, n := range nodes {
		n.Miner().Start()
	}
	const windows, every = 8, 20
	testkit.Eventually(t, 120*time.Second, "8 windows mined", func() bool { return nodes[0].Chain().Height() >= windows*every })
	for _, n := range nodes {
		n.Miner().Stop()
	}
	testkit.Eventually(t, 10*time.Second, "one tip", func() bool {
		tip := nodes[0].Chain().Tip().Hash
		return nodes[1].Chain().Tip().Hash == tip && nodes[2].Chain().Tip().Hash == tip
	})

	c := nodes[0].Chain()
	blocks := c.Blocks(1, windows*every)
	for _, n := range nodes[1:] {
		for _, b := range blocks {
			nb, ok := n.Chain().BlockAt(b.Header.Height)
			if !ok || nb.Header.Bits != b.Header.Bits || nb.Hash() != b.Hash() {
				t.Fatalf("%s disagrees at height %d", n.Name(), b.Header.Height)
			}
		}
	}
	perWindow := bitsPerWindow(blocks, every)
	t.Logf("bits per window: %v; window durations (ms): %v", perWindow, windowMillis(c, blocks, every))
	final := median(perWindow[len(perWindow)-4:])
	total := rates[0] + rates[1] + rates[2]
	expected := math.Exp2(float64(final)) / total
	if math.Abs(expected-0.25)/0.25 > 0.25 {
		t.Fatalf("bits over the last 4 windows %v (median %d): expected block time %.3fs, not within ±25%% of 0.25s",
			perWindow[len(perWindow)-4:], final, expected)
	}
	last := blocks[len(blocks)-40:]
	mean := float64(last[len(last)-1].Header.Timestamp-blocks[len(blocks)-41].Header.Timestamp) / 40 / 1000
	t.Logf("mean interval over the last 40 blocks: %.3fs (target 0.25s, expected at %d bits %.3fs)", mean, final, expected)
	if math.Abs(mean-0.25)/0.25 > 0.5 {
		t.Fatalf("observed mean interval %.3fs, not within ±50%% of 0.25s", mean)
	}
	// Shares over the last 5 windows (≥ 14 bits, blocks ≥ 70 ms apart):
	// in the first windows blocks come every millisecond or so and NATS
	// latency, not hash power, decides who wins.
	won := make(map[chain.Address]int)
	recent := blocks[len(blocks)-50:]
	for _, b := range recent {
		won[b.Miner()]++
	}
	for i, n := range nodes {
		share := float64(won[n.Miner().Address()]) / float64(len(recent))
		want := rates[i] / total
		t.Logf("%s: %d blocks, share %.2f (hash power %.2f)", n.Name(), won[n.Miner().Address()], share, want)
		if math.Abs(share-want) > 0.2 {
			t.Errorf("%s won %.2f of the blocks with %.2f of the hash power", n.Name(), share, want)
		}
	}
}

func windowMillis(c *chain.Chain, blocks []*chain.Block, every int) []int64 {
	var out []int64
	prev, _ := c.BlockAt(0)
	for i := every - 1; i < len(blocks); i += every {
		out = append(out, blocks[i].Header.Timestamp-prev.Header.Timestamp)
		prev = blocks[i]
	}
	return out
}

func median(xs []uint32) uint32 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func bitsPerWindow(blocks []*chain.Block, every int) []uint32 {
	var out []uint32
	for i := 0; i < len(blocks); i += every {
		out = append(out, blocks[i].Header.Bits)
	}
	return out
}

func TestHashRateLimitHolds(t *testing.T) {
	testkit.CheckGoroutines(t)
	srv := startServer(t, events.ServerConfig{})
	cfg := testNodeConfig(t, 0, testGenesis(t, 22)) // 4M tries a block: hashes at the limit until stopped
	cfg.Embedded = srv
	cfg.Miner = miner.Settings{Mode: miner.ModeRace, HashRate: 50_000}
	n := startNode(t, cfg)
	n.Miner().Start()
	testkit.Eventually(t, 5*time.Second, "hashing starts", func() bool { return n.Miner().Hashes() > 0 })
	start, h0 := time.Now(), n.Miner().Hashes()
	testkit.Eventually(t, 5*time.Second, "100k hashes made", func() bool { return n.Miner().Hashes()-h0 >= 100_000 })
	rate := float64(n.Miner().Hashes()-h0) / time.Since(start).Seconds()
	n.Miner().Stop()
	t.Logf("measured %.0f hashes/s at a 50 000 limit", rate)
	// The limit is an upper bound by construction (the miner sleeps to it);
	// the measurement window adds at most one 20 ms slice.
	if rate > 50_000*1.3 {
		t.Fatalf("hash rate %.0f above the 50 000 limit", rate)
	}
	if err := n.Miner().SetHashRate(-1); err == nil {
		t.Fatal("a negative hash rate was accepted")
	}
}
