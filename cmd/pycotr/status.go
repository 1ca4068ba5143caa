package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/internal/config"
	"github.com/pycotr/pycotr/internal/wait"
)

// runStatus asks the network over NATS (scatter-gather) and prints a table.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("status", stderr)
	def := os.Getenv("PYCOTR_NATS_URL")
	if def == "" {
		def = "nats://127.0.0.1:4222"
	}
	natsURL := fs.String("nats-url", def, "NATS server URLs, comma-separated (PYCOTR_NATS_URL)")
	prefix := fs.String("subject-prefix", orDefault(os.Getenv("PYCOTR_SUBJECT_PREFIX"), events.DefaultPrefix), "subject prefix")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	watch := fs.Bool("watch", false, "redraw every second until Ctrl-C")
	stall := fs.Duration("wait", 500*time.Millisecond, "stop waiting for replies after this long without one")
	if err := fs.Parse(args); err != nil {
		return usagef("%w", err)
	}
	subjects, err := events.NewSubjects(*prefix)
	if err != nil {
		return usagef("%v", err)
	}
	var client config.NATSClient // the node's PYCOTR_NATS_USER, _TOKEN, _CREDS, _TLS_*, ...
	if err := envconfig.Process(config.EnvPrefix, &client); err != nil {
		return usagef("%v", err)
	}
	bus, err := events.Connect(events.BusConfig{Servers: config.SplitList(*natsURL), Auth: client.Auth(), Name: "pycotr status", Subjects: subjects})
	if err != nil {
		if refused := client.Refused(err); refused != nil {
			return usagef("%v", refused)
		}
		return err
	}
	defer bus.Close()
	if !wait.For(ctx, 3*time.Second, 20*time.Millisecond, bus.Connected) {
		return fmt.Errorf("cannot reach NATS at %s", *natsURL)
	}
	for {
		gctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		states, err := bus.GatherStates(gctx, *stall)
		cancel()
		if err != nil {
			return err
		}
		slices.SortFunc(states, func(a, b events.NodeState) int { return strings.Compare(a.Name, b.Name) })
		if *asJSON {
			if states == nil {
				states = []events.NodeState{}
			}
			if err := json.NewEncoder(stdout).Encode(states); err != nil {
				return err
			}
		} else {
			if *watch {
				fmt.Fprint(stdout, "\033[H\033[2J")
			}
			printStatus(stdout, states)
		}
		if !*watch {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

func printStatus(w io.Writer, states []events.NodeState) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tURL\tHEIGHT\tTIP\tMINED\tPAUSE\tMINING\tPEERS\tBITS\tRETARGET\tHASH/S")
	for _, s := range states {
		retarget := "off"
		if s.TargetBlockMillis > 0 {
			retarget = fmt.Sprintf("in %d (%gs)", s.BlocksToRetarget, float64(s.TargetBlockMillis)/1000)
		}
		rate := fmt.Sprintf("%.0f", s.HashRate)
		if s.HashRateLimit > 0 {
			rate += fmt.Sprintf(" / %.0f", s.HashRateLimit)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%gs\t%v\t%d\t%d\t%s\t%s\n", s.Name, s.URL, s.Height, s.Tip.Short(),
			s.BlocksMined, s.Pause, s.Mining, s.Peers, s.Bits, retarget, rate)
	}
	tw.Flush()
	if len(states) == 0 {
		fmt.Fprintln(w, "no node answered")
	}
}
