package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// benchFigures is every figure `pycotr bench --quick` reports; the quick
// sizes fix the ledger's account counts (1k, 5k) and the netcost heights.
var benchFigures = []string{
	"pow/sha256_compressions_1core", "pow/sha256_compressions_all", "pow/hashes_1core", "pow/hashes_all",
	"pow/ratio_1core_to_compression", "pow/ratio_all_to_1core", "pow/vs_original",
	"intake/tx_per_s_node1", "intake/latency_p50_node1", "intake/latency_p99_node1", "intake/vs_original",
	"intake/tx_per_s_spread", "intake/latency_p50_spread", "intake/latency_p99_spread",
	"compat/sign_rate_all_cores", "compat/tx_per_s", "compat/ratio_to_sign_rate",
	"compat/latency_p50", "compat/latency_p99", "compat/vs_original",
	"propagation/p50", "propagation/p99", "propagation/max",
	"propagation/p50_full", "propagation/p99_full", "propagation/max_full",
	"sync/blocks_per_s", "sync/tx_per_s", "sync/bytes", "sync/bytes_per_block", "sync/mb_per_s",
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
	var out, errOut bytes.Buffer
	if err := runBench(ctx, []string{"--quick", "--json", "--quiet"}, &out, &errOut); err != nil {
		t.Fatalf("bench: %v\n%s", err, errOut.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	if !rep.Quick || rep.Machine.CPUs <= 0 || rep.Machine.Go == "" {
		t.Errorf("machine/quick fields: %+v", rep.Machine)
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
	for _, p := range benchPhases {
		if _, ok := rep.Phases[p]; !ok {
			t.Errorf("phase %s did not run", p)
		}
	}
}

func TestBenchFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := runBench(context.Background(), []string{"--only", "nope"}, &out, &errOut); err == nil {
		t.Fatal("--only nope: want a usage error")
	} else if _, ok := err.(errUsage); !ok {
		t.Fatalf("--only nope: %v, want a usage error", err)
	}
	if err := runBench(context.Background(), []string{"extra"}, &out, &errOut); err == nil {
		t.Fatal("an argument: want a usage error")
	}
}
