package bench

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

// TestBenchScaleQuick runs the scale phase at its quick sizes (3 and 6
// nodes, seconds each) and checks that every figure is there and sane:
// counts and times positive, p50 ≤ p99, adoption no sooner than
// propagation, the fork rate a share. It asserts
// nothing about speed or the targets: the full phase measures those.
func TestBenchScaleQuick(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	report, err := Run(ctx, Options{Quick: true, Phases: []string{"scale"}}, &progress)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, progress.String())
	}
	got := map[string]float64{}
	for _, f := range report.Figures {
		if f.Phase != "scale" {
			t.Errorf("figure %s/%s from another phase", f.Phase, f.Name)
		}
		if _, dup := got[f.Name]; dup {
			t.Errorf("figure %s reported twice", f.Name)
		}
		got[f.Name] = f.Value
		if math.IsNaN(f.Value) || math.IsInf(f.Value, 0) || f.Unit == "" {
			t.Errorf("figure %s = %v %q, want a finite number with a unit", f.Name, f.Value, f.Unit)
		}
	}
	positive := []string{"per_node_msgs_ratio", "per_node_bytes_ratio", "per_node_cpu_ratio"}
	for _, n := range scaleQuick.nodes {
		for _, f := range []string{"msgs_per_node_block", "bytes_per_node_block", "cpu_per_node_block",
			"propagation_p50", "propagation_p99", "adoption_p50", "adoption_p99"} {
			positive = append(positive, fmt.Sprintf("%s_n%d", f, n))
		}
		p50, p99 := got[fmt.Sprintf("propagation_p50_n%d", n)], got[fmt.Sprintf("propagation_p99_n%d", n)]
		if p50 > p99 {
			t.Errorf("n=%d: propagation p50 %v > p99 %v", n, p50, p99)
		}
		// A block is on a node's chain no sooner than at the node.
		a50, a99 := got[fmt.Sprintf("adoption_p50_n%d", n)], got[fmt.Sprintf("adoption_p99_n%d", n)]
		if a50 < p50 || a99 < p99 {
			t.Errorf("n=%d: adoption p50/p99 %v/%v below propagation %v/%v", n, a50, a99, p50, p99)
		}
		bounds := map[string][2]float64{fmt.Sprintf("fork_rate_n%d", n): {0, 1}, fmt.Sprintf("convergence_n%d", n): {0, 60}}
		for name, b := range bounds {
			if v, ok := got[name]; !ok || v < b[0] || v > b[1] {
				t.Errorf("figure %s = %v (present %v), want %v to %v", name, v, ok, b[0], b[1])
			}
		}
	}
	for _, k := range positive {
		if v, ok := got[k]; !ok || v <= 0 {
			t.Errorf("figure %s = %v (present %v), want positive", k, v, ok)
		}
	}
	if len(got) != 9*len(scaleQuick.nodes)+3 {
		t.Errorf("%d figures, want %d: %v", len(got), 9*len(scaleQuick.nodes)+3, got)
	}
	if _, ok := report.Phases["scale"]; !ok {
		t.Error("the phase's time is not recorded")
	}
}
