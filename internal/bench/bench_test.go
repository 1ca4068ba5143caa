package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// benchFigures is every figure `pycotr bench --quick` reports; the quick
// sizes fix the ledger's account counts (1k, 5k) and the netcost heights.
var benchFigures = []string{
	"pow/sha256_compressions_1core", "pow/sha256_compressions_all", "pow/hashes_1core", "pow/hashes_all",
	"pow/ratio_1core_to_compression", "pow/ratio_all_to_1core", "pow/vs_original",
	"intake/tx_per_s_node1", "intake/latency_p50_node1", "intake/latency_p99_node1", "intake/vs_original", "intake/ratio_to_verify_limit", "intake/verify_rate_all_cores",
	"intake/tx_per_s_spread", "intake/latency_p50_spread", "intake/latency_p99_spread",
	"intake/tx_per_s_node1_batch", "intake/latency_p50_node1_batch", "intake/latency_p99_node1_batch", "intake/ratio_to_verify_limit_batch",
	"intake/tx_per_s_node1_datadir", "intake/latency_p50_node1_datadir", "intake/latency_p99_node1_datadir",
	"intake/datadir_ratio", "intake/datadir_ratio_same_clients", "intake/tx_per_s_node1_saturated",
	"intake/tx_per_s_node1_datadir_saturated",
	"compat/sign_rate_all_cores", "compat/tx_per_s", "compat/ratio_to_sign_rate",
	"compat/latency_p50", "compat/latency_p99", "compat/vs_original",
	"propagation/p50", "propagation/p99", "propagation/max",
	"propagation/p50_full", "propagation/p99_full", "propagation/max_full",
	"sync/blocks_per_s", "sync/tx_per_s", "sync/ratio_to_verify_limit", "sync/bytes", "sync/bytes_per_block", "sync/mb_per_s",
	"netcost/bytes_at_height_10", "netcost/bytes_at_height_30", "netcost/bytes_at_height_60",
	"netcost/flat_ratio", "netcost/vs_original_at_136",
	"ledger/balance_http_1k_accounts", "ledger/balance_http_5k_accounts", "ledger/balance_http_flat_ratio",
	"ledger/balance_1k_accounts", "ledger/balance_5k_accounts", "ledger/balance_ratio",
	"ledger/balance_table_1k_accounts", "ledger/balance_table_5k_accounts", "ledger/balance_table_ratio",
	"ledger/balance_hot_5k_accounts", "ledger/balance_hot_ratio",
	"ledger/admission_1k_accounts", "ledger/admission_5k_accounts", "ledger/admission_flat_ratio",
	"memory/vmrss", "memory/vmrss_delta_per_block", "memory/heapinuse_delta_per_block", "memory/heap_to_block_size",
}

// TestBenchQuick runs every phase at small sizes and checks that the JSON
// report has every figure, each positive and finite. It asserts nothing
// about speed: the figures depend on the machine and its load.
func TestBenchQuick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	report, err := Run(ctx, Options{Quick: true, Command: "pycotr bench --quick"}, &progress)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, progress.String())
	}
	var out bytes.Buffer
	if err := report.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.Quick || rep.Machine.CPUs <= 0 || rep.Machine.Go == "" || rep.Command != "pycotr bench --quick" {
		t.Errorf("machine/quick/command fields: %+v %v %q", rep.Machine, rep.Quick, rep.Command)
	}
	got := map[string]float64{}
	for _, f := range rep.Figures {
		key := f.Phase + "/" + f.Name
		if _, dup := got[key]; dup {
			t.Errorf("figure %s reported twice", key)
		}
		got[key] = f.Value
		if f.Unit == "" {
			t.Errorf("figure %s has no unit", key)
		}
	}
	for _, k := range benchFigures {
		v, ok := got[k]
		switch {
		case !ok:
			t.Errorf("figure %s missing", k)
		case math.IsNaN(v) || math.IsInf(v, 0) || v <= 0:
			t.Errorf("figure %s = %v, want positive and finite", k, v)
		}
	}
	if len(got) != len(benchFigures) {
		t.Errorf("%d figures, want %d", len(got), len(benchFigures))
	}
	for _, p := range Phases {
		if _, ok := rep.Phases[p]; !ok {
			t.Errorf("phase %s did not run", p)
		}
	}
}

func TestRunUnknownPhase(t *testing.T) {
	for _, phases := range [][]string{{"nope"}, {"pow", ""}} {
		if _, err := Run(context.Background(), Options{Phases: phases}, nil); !errors.Is(err, ErrUnknownPhase) {
			t.Errorf("phases %q: %v, want ErrUnknownPhase", phases, err)
		}
	}
}

// The report's two forms: the Markdown table (BENCHMARKS.md pastes it)
// and the JSON, with the field names tools read.
func TestReportFormats(t *testing.T) {
	yes := true
	rep := Report{
		Machine: Machine{CPUs: 2, GOMAXPROCS: 2, CPU: "Test CPU", Go: "go1.26", Date: "2026-01-02T03:04:05Z", LoadAvg: "0.5"},
		Command: "pycotr bench --only pow", Phases: map[string]float64{"pow": 0.84, "ledger": 12.3},
		Figures: []Figure{
			{Phase: "pow", Name: "hashes_1core", Value: 32882820, Unit: "H/s", Note: "chain.Miner Workers 1"},
			{Phase: "pow", Name: "ratio", Value: 1.534, Unit: "×", Target: "≥ 0.5", Met: &yes},
			{Phase: "ledger", Name: "balance", Value: 0.0123456, Unit: "ns/op"},
		},
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	want := `pycotr bench — Test CPU, 2 CPUs (GOMAXPROCS 2), go1.26, 2026-01-02T03:04:05Z

| phase | figure | value | unit | target | met | note |
|---|---|---:|---|---|---|---|
| pow | hashes_1core | 32882820 | H/s |  |  | chain.Miner Workers 1 |
| pow | ratio | 1.53 | × | ≥ 0.5 | yes |  |
| ledger | balance | 0.0123 | ns/op |  |  |  |

pow 0.8s  ledger 12.3s  
`
	if table.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", table.String(), want)
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(js.Bytes(), &fields); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "command", "quick", "phase_seconds", "figures"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("JSON has no %q: %s", k, js.String())
		}
	}
	if !strings.Contains(js.String(), `"loadavg_start": "0.5"`) || !strings.Contains(js.String(), `"met": true`) ||
		strings.Contains(js.String(), `"target": ""`) {
		t.Errorf("JSON fields:\n%s", js.String())
	}
}
