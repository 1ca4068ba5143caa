package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/services"
)

// sync: a fresh node catches up a chain built directly on node A.
func (b *runner) sync(ctx context.Context) error {
	g, err := benchGenesis(ctx, 4)
	if err != nil {
		return err
	}
	senders, err := genKeys(4, 1024)
	if err != nil {
		return err
	}
	net, err := startNet(ctx, g, []services.Config{{GatherStall: 25 * time.Millisecond}}, false)
	if err != nil {
		return err
	}
	defer net.Close()
	chains := net.chains()
	var addrs []chain.Address
	for _, k := range senders {
		a := chain.AddressOf(&k.PublicKey)
		addrs = append(addrs, a)
		if _, err := extend(ctx, chains, a, nil); err != nil {
			return err
		}
	}
	blocks := b.sz.syncBlocks - len(senders)
	txs, err := b.signTransfers("sync txs", senders, blocks*b.sz.syncTxs)
	if err != nil {
		return err
	}
	var encoded int64
	for i := 0; i < blocks; i++ {
		blk, err := extend(ctx, chains, addrs[i%len(addrs)], txs[i*b.sz.syncTxs:(i+1)*b.sz.syncTxs])
		if err != nil {
			return err
		}
		encoded += int64(blk.Size())
		b.prog.tick("building blocks", i+1, blocks)
	}
	txs = nil
	target := chains[0].Height()
	keys, err := genKeys(1, 1024)
	if err != nil {
		return err
	}
	fresh, err := services.New(services.Config{Name: "fresh", MinerKey: keys[0], Genesis: g,
		Embedded: net.cl.Server, GatherStall: 25 * time.Millisecond})
	if err != nil {
		return err
	}
	stopProf := b.profile("sync")
	start := time.Now()
	if err := fresh.Start(ctx); err != nil {
		return err
	}
	defer fresh.Close()
	ok := wait.For(ctx, 10*time.Minute, 5*time.Millisecond, func() bool {
		h := fresh.Chain().Height()
		b.prog.tick("synced blocks", int(h), int(target))
		return h >= target
	})
	el := time.Since(start)
	stopProf()
	if !ok {
		return fmt.Errorf("fresh node at height %d of %d", fresh.Chain().Height(), target)
	}
	verifies, err := verifyRate(time.Duration(b.sz.powSeconds*float64(time.Second))/2, 1024)
	if err != nil {
		return err
	}
	st := fresh.Stats()
	note := fmt.Sprintf("%d blocks × %d RSA-1024 transfers, from the fresh node's start (consensus stall 25 ms included)", target, b.sz.syncTxs)
	if r := st.SyncRedundant; r > 0 {
		note += fmt.Sprintf("; %d redundant blocks", r)
	}
	b.goal("sync", "blocks_per_s", float64(target)/el.Seconds(), "blocks/s", 2000, false, note)
	txRate := float64(target) * float64(b.sz.syncTxs) / el.Seconds()
	b.fig("sync", "tx_per_s", txRate, "tx/s", "")
	b.fig("sync", "ratio_to_verify_limit", txRate/verifies, "×", fmt.Sprintf(
		"tx_per_s ÷ %.0f RSA-1024 verifications/s on all cores (each synced transaction is verified once)", verifies))
	b.fig("sync", "bytes", float64(st.SyncBytes), "B", fmt.Sprintf("Stats.SyncBytes, %d pages", st.SyncPages))
	b.fig("sync", "bytes_per_block", float64(st.SyncBytes)/float64(target), "B/block",
		fmt.Sprintf("JSON; Block.Size averages %.0f B", float64(encoded)/float64(blocks)))
	b.fig("sync", "mb_per_s", float64(st.SyncBytes)/el.Seconds()/1e6, "MB/s", "")
	return nil
}
