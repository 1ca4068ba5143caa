package httpapi

import (
	"math/big"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newMetricsHandler serves /metrics from a registry of the node's own:
// the node's collector, read at scrape time, plus Go and process metrics.
// Each node has its own registry, so several nodes share one process.
func newMetricsHandler(a *api) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		newNodeCollector(a),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}

// nodeCollector reads a node's state and counters at each scrape: the
// node keeps plain counters, nothing is pushed.
type nodeCollector struct {
	a *api

	height, totalWork, mempoolTxs, mempoolBytes, hashRate, peers, mining, pause, ready *prometheus.Desc
	blocksMined, blocksAccepted, hashes, syncPages, syncBlocks, syncBytes, syncFails   *prometheus.Desc
	reorgs, reorgDepth, sideBlocks, feedDrops                                          *prometheus.Desc
	bits, targetBlock, toRetarget, hashLimit                                           *prometheus.Desc
	txAccepted, txRejected, blocksRejected, natsDropped                                *prometheus.Desc
	relayUnacked, poolRestored, restoreDrops                                           *prometheus.Desc
	relayFlushes, logSyncs, logRecords                                                 *prometheus.Desc
	invRounds, invInSync, invUnchanged, invFailures, invBytes, invServed               *prometheus.Desc
}

func newNodeCollector(a *api) *nodeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("pycotr_"+name, help, labels, nil)
	}
	return &nodeCollector{
		a:              a,
		height:         d("height", "Height of the best chain's tip."),
		totalWork:      d("total_work", "Cumulative proof-of-work of the best chain (expected hashes)."),
		mempoolTxs:     d("mempool_txs", "Transactions in the mempool."),
		mempoolBytes:   d("mempool_bytes", "Bytes of transactions in the mempool."),
		hashRate:       d("pow_hashes_per_second", "Proof-of-work rate, averaged over at least the last second."),
		bits:           d("difficulty_bits", "Leading zero bits the next block's hash needs."),
		targetBlock:    d("target_block_seconds", "The retarget rule's target time between blocks; 0 = fixed difficulty."),
		toRetarget:     d("blocks_to_retarget", "Blocks until the retarget rule next applies (0 with a fixed difficulty)."),
		hashLimit:      d("pow_hash_rate_limit", "The miner's hash-rate limit in hashes per second; 0 = none."),
		peers:          d("peers", "Live peers seen by presence."),
		mining:         d("mining", "1 when the miner is on."),
		pause:          d("miner_pause_seconds", "The miner's pause."),
		ready:          d("ready", "1 when the node is connected and synced."),
		blocksMined:    d("blocks_mined_total", "Blocks this node mined."),
		blocksAccepted: d("blocks_accepted_total", "Blocks accepted from peers."),
		hashes:         d("pow_hashes_total", "Proof-of-work tries made."),
		syncPages:      d("sync_pages_total", "Block pages received in chain sync."),
		syncBlocks:     d("sync_blocks_total", "Blocks received in chain sync."),
		syncBytes:      d("sync_bytes_total", "Bytes of blocks received in chain sync."),
		syncFails:      d("sync_failures_total", "Chain syncs that failed: timeout, no responder, garbage or invalid blocks."),
		reorgs:         d("reorgs_total", "Switches of the best chain to another branch."),
		reorgDepth:     d("reorg_depth_total", "Blocks disconnected by reorgs, summed."),
		sideBlocks:     d("side_blocks_total", "Valid blocks stored beside the best chain: a rival first seen elsewhere at equal work, or a branch behind."),
		feedDrops:      d("feed_dropped_subscribers_total", "Live-view subscribers dropped for falling behind."),
		txAccepted:     d("txs_accepted_total", "Transactions accepted into the mempool, by source.", "source"),
		txRejected:     d("txs_rejected_total", "Transactions rejected, by reason.", "reason"),
		blocksRejected: d("blocks_rejected_total", "Blocks rejected, by reason.", "reason"),
		natsDropped:    d("nats_dropped_total", "Inbound NATS messages dropped, by reason.", "reason"),
		relayUnacked:   d("relay_unacknowledged_total", "Client transactions whose relay the NATS server did not acknowledge in time."),
		relayFlushes:   d("relay_flushes_total", "NATS flushes acknowledging client transactions' relays: one per group commit, however many it held."),
		logSyncs:       d("mempool_log_syncs_total", "fdatasyncs of mempool.log: one per group commit."),
		logRecords:     d("mempool_log_records_total", "Transactions made durable in mempool.log (÷ syncs: transactions per sync)."),
		poolRestored:   d("mempool_restored_total", "Pending transactions restored from the data directory at start."),
		restoreDrops:   d("mempool_restore_dropped_total", "Stored pending transactions dropped at start, by reason.", "reason"),
		invRounds:      d("inventory_rounds_total", "Mempool inventory exchanges with a peer."),
		invInSync:      d("inventory_in_sync_total", "Inventory exchanges that found both pools equal."),
		invUnchanged:   d("inventory_unchanged_total", "Inventory exchanges that found a pool already listed, with nothing to take."),
		invFailures:    d("inventory_failures_total", "Inventory exchanges that failed: timeout, no responder, refusal."),
		invBytes:       d("inventory_bytes_total", "Reply bytes received in inventory exchanges."),
		invServed:      d("inventory_served_total", "Inventory requests this node answered."),
	}
}

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.height, c.totalWork, c.mempoolTxs, c.mempoolBytes, c.hashRate, c.peers, c.mining, c.pause, c.ready,
		c.blocksMined, c.blocksAccepted, c.hashes, c.syncPages, c.syncBlocks, c.syncBytes, c.syncFails,
		c.reorgs, c.reorgDepth, c.sideBlocks, c.feedDrops, c.bits, c.targetBlock, c.toRetarget, c.hashLimit,
		c.txAccepted, c.txRejected, c.blocksRejected, c.natsDropped,
		c.relayUnacked, c.poolRestored, c.restoreDrops, c.relayFlushes, c.logSyncs, c.logRecords,
		c.invRounds, c.invInSync, c.invUnchanged, c.invFailures, c.invBytes, c.invServed,
	} {
		ch <- d
	}
}

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	byLabel := func(d *prometheus.Desc, m map[string]uint64, always ...string) {
		for _, k := range always {
			if _, ok := m[k]; !ok {
				counter(d, 0, k)
			}
		}
		for k, v := range m {
			counter(d, v, k)
		}
	}
	chain, miner := c.a.chain, c.a.miner
	tip := chain.Tip()
	count, bytes := chain.MempoolStats()
	gauge(c.height, float64(tip.Height))
	gauge(c.totalWork, workFloat(tip.Work))
	gauge(c.mempoolTxs, float64(count))
	gauge(c.mempoolBytes, float64(bytes))
	gauge(c.hashRate, miner.HashRate())
	gauge(c.bits, float64(chain.NextBits()))
	gauge(c.toRetarget, float64(chain.BlocksToRetarget()))
	gauge(c.hashLimit, miner.HashRateLimit())
	if r := chain.Params().Retarget; r != nil {
		gauge(c.targetBlock, float64(r.TargetBlockMillis)/1000)
	} else {
		gauge(c.targetBlock, 0)
	}
	gauge(c.peers, float64(len(c.a.peers.List())))
	gauge(c.mining, boolFloat(miner.Mining()))
	gauge(c.pause, miner.Pause().Seconds())
	ready, _ := c.a.node.Ready()
	gauge(c.ready, boolFloat(ready))

	s := c.a.node.Stats()
	counter(c.blocksMined, s.BlocksMined)
	counter(c.blocksAccepted, s.BlocksAccepted)
	counter(c.hashes, miner.Hashes())
	counter(c.syncPages, s.SyncPages)
	counter(c.syncBlocks, s.SyncBlocks)
	counter(c.syncBytes, s.SyncBytes)
	counter(c.syncFails, s.SyncFailures)
	counter(c.reorgs, s.Reorgs)
	counter(c.reorgDepth, s.ReorgDepthTotal)
	counter(c.sideBlocks, s.SideBlocks)
	counter(c.feedDrops, s.FeedDrops)
	byLabel(c.txAccepted, s.TxAccepted, "local", "relay", "inventory")
	byLabel(c.txRejected, s.TxRejected)
	byLabel(c.blocksRejected, s.BlocksRejected)
	byLabel(c.natsDropped, s.NATSDrops)
	counter(c.relayUnacked, s.RelayUnacked)
	counter(c.relayFlushes, s.RelayFlushes)
	counter(c.logSyncs, s.LogSyncs)
	counter(c.logRecords, s.LogRecords)
	counter(c.poolRestored, s.PoolRestored)
	byLabel(c.restoreDrops, s.RestoreDrops)
	counter(c.invRounds, s.InvRounds)
	counter(c.invInSync, s.InvInSync)
	counter(c.invUnchanged, s.InvUnchanged)
	counter(c.invFailures, s.InvFailures)
	counter(c.invBytes, s.InvBytes)
	counter(c.invServed, s.InvServed)
}

func workFloat(w *big.Int) float64 {
	if w == nil {
		return 0
	}
	f, _ := new(big.Float).SetInt(w).Float64()
	return f
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
