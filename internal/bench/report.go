package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Figure is one measured number.
type Figure struct {
	Phase  string  `json:"phase"`
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	Target string  `json:"target,omitempty"` // what the figure should reach
	Met    *bool   `json:"met,omitempty"`    // whether it does
	Note   string  `json:"note,omitempty"`
}

// Machine describes where a run ran.
type Machine struct {
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPU        string `json:"cpu"`
	Go         string `json:"go"`
	Date       string `json:"date"`
	LoadAvg    string `json:"loadavg_start"`
}

// Report is a whole run.
type Report struct {
	Machine Machine            `json:"machine"`
	Command string             `json:"command"`
	Quick   bool               `json:"quick"`
	Phases  map[string]float64 `json:"phase_seconds"` // each run phase's wall-clock time
	Figures []Figure           `json:"figures"`       // in the order measured
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the report as a Markdown table, then each phase's time.
func (r *Report) WriteTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	m := r.Machine
	fmt.Fprintf(bw, "pycotr bench — %s, %d CPUs (GOMAXPROCS %d), %s, %s\n\n", m.CPU, m.CPUs, m.GOMAXPROCS, m.Go, m.Date)
	fmt.Fprintf(bw, "| phase | figure | value | unit | target | met | note |\n|---|---|---:|---|---|---|---|\n")
	for _, f := range r.Figures {
		met := ""
		if f.Met != nil {
			met = "no"
			if *f.Met {
				met = "yes"
			}
		}
		fmt.Fprintf(bw, "| %s | %s | %s | %s | %s | %s | %s |\n", f.Phase, f.Name, fmtNum(f.Value), f.Unit, f.Target, met, f.Note)
	}
	fmt.Fprintln(bw)
	for _, p := range slices.Concat(Phases, OnDemand) {
		if s, ok := r.Phases[p]; ok {
			fmt.Fprintf(bw, "%s %.1fs  ", p, s)
		}
	}
	fmt.Fprintln(bw)
	return bw.Flush()
}

// fmtNum prints a number with three significant digits, or as an integer.
func fmtNum(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 100:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

// thisMachine describes this machine now.
func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPU: cpuModel(), Go: runtime.Version(),
		Date: time.Now().UTC().Format(time.RFC3339)}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.LoadAvg = strings.TrimSpace(string(la))
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
