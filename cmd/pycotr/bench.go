package main

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/pycotr/pycotr/internal/bench"
)

// runBench parses `pycotr bench`'s flags and runs internal/bench.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bench", stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quick := fs.Bool("quick", false, "small sizes: a short run (the test's)")
	only := fs.String("only", "", "comma-separated phases to run: "+strings.Join(bench.Phases, ",")+
		"; on demand only: "+strings.Join(bench.OnDemand, ","))
	cpuprofile := fs.String("cpuprofile", "", "write CPU profiles of each phase's measured part to `prefix`.<phase>")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return usagef("%w", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	opts := bench.Options{Quick: *quick, CPUProfile: *cpuprofile, Command: "pycotr bench " + strings.Join(args, " ")}
	if *only != "" {
		for _, p := range strings.Split(*only, ",") {
			opts.Phases = append(opts.Phases, strings.TrimSpace(p))
		}
	}
	progress := stderr
	if *quiet {
		progress = io.Discard
	}
	report, err := bench.Run(ctx, opts, progress)
	switch {
	case errors.Is(err, bench.ErrUnknownPhase):
		return usagef("--only: %v", err)
	case err != nil:
		return err
	case *asJSON:
		return report.WriteJSON(stdout)
	}
	return report.WriteTable(stdout)
}
