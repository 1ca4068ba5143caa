package httpapi

import (
	"bytes"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pycotr/pycotr/chain"
)

// scrape reads /metrics and parses it as Prometheus text.
func scrape(t *testing.T, ta *testAPI) map[string]*dto.MetricFamily {
	t.Helper()
	res := ta.do("GET", "/metrics", "", "")
	if res.status != 200 {
		t.Fatalf("metrics: %d", res.status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(bytes.NewReader(res.body))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return mf
}

// value returns a sample's value: the one whose labels include want.
func value(mf map[string]*dto.MetricFamily, name string, want ...string) (float64, bool) {
	f, ok := mf[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i+1 < len(want); i += 2 {
			match = match && labels[want[i]] == want[i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	ta := startAPI(t)
	n := ta.node
	before := scrape(t, ta)
	for _, name := range []string{
		"pycotr_height", "pycotr_total_work", "pycotr_blocks_mined_total", "pycotr_mempool_txs", "pycotr_mempool_bytes",
		"pycotr_txs_accepted_total", "pycotr_sync_pages_total", "pycotr_sync_bytes_total", "pycotr_reorgs_total",
		"pycotr_reorg_depth_total", "pycotr_side_blocks_total", "pycotr_pow_hashes_per_second", "pycotr_pow_hashes_total", "pycotr_peers",
		"pycotr_difficulty_bits", "pycotr_target_block_seconds", "pycotr_blocks_to_retarget", "pycotr_pow_hash_rate_limit",
		"go_goroutines", "process_cpu_seconds_total",
	} {
		if _, ok := before[name]; !ok {
			t.Errorf("metric %s missing", name)
		}
	}
	if f := before["pycotr_blocks_mined_total"]; f != nil && f.GetType() != dto.MetricType_COUNTER {
		t.Errorf("pycotr_blocks_mined_total is a %s", f.GetType())
	}

	// Transactions and blocks flow: one accepted, one rejected, blocks mined.
	mint := signedMint(t, 1, 10)
	ta.v1("POST", "/txs", withCard(mint), 202, nil)
	bad := signedMint(t, 2, 10)
	bad.Amount = 11 // the signature no longer matches
	ta.v1("POST", "/txs", withCard(bad), 422, nil)
	mid := scrape(t, ta)
	if v, _ := value(mid, "pycotr_mempool_txs"); v != 1 {
		t.Errorf("mempool_txs %v, want 1", v)
	}
	if v, _ := value(mid, "pycotr_mempool_bytes"); v != float64(mint.Size()) {
		t.Errorf("mempool_bytes %v, want %d", v, mint.Size())
	}
	mineUntil(t, n, "the mint is confirmed", func() bool { return confirmed(n, mint.ID) })
	after := scrape(t, ta)

	grew := func(name string, labels ...string) {
		t.Helper()
		b, _ := value(before, name, labels...)
		a, ok := value(after, name, labels...)
		if !ok || a <= b {
			t.Errorf("%s%v: %v then %v, want growth", name, labels, b, a)
		}
	}
	grew("pycotr_txs_accepted_total", "source", "local")
	grew("pycotr_relay_flushes_total") // the accepted one's relay (a node in memory: no log syncs)
	grew("pycotr_blocks_mined_total")
	grew("pycotr_height")
	grew("pycotr_total_work")
	grew("pycotr_pow_hashes_total")
	if v, ok := value(after, "pycotr_txs_rejected_total", "reason", chain.ErrBadSignature.Code); !ok || v < 1 {
		t.Errorf("txs_rejected_total{reason=bad-signature} = %v", v)
	}
	if v, _ := value(after, "pycotr_height"); v != float64(n.Chain().Height()) {
		t.Errorf("height %v, node at %d", v, n.Chain().Height())
	}
}
