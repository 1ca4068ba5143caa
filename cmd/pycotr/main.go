// Command pycotr runs Pycotr miner nodes and their tools:
//
//	pycotr up        the local network: embedded NATS and three nodes in one process
//	pycotr node      one node, configured by PYCOTR_* variables and flags
//	pycotr status    the network's nodes, asked over NATS
//	pycotr genesis   rewrite the genesis file
//	pycotr wallet    keep keys, buy, send, balances, history (internal/cli)
//	pycotr chain     the best chain's tip and last blocks; block, tx, mempool
//	pycotr lab       the fork lab: isolate a node, heal it (internal/cli)
//	pycotr probe     exit 0 when a URL answers 2xx (container health checks)
//	pycotr bench     measure this machine (internal/bench)
//
// It parses configuration, starts and stops things, and nothing else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pycotr/pycotr/internal/cli"
)

// exitUsage is the exit code for bad configuration or usage.
const exitUsage = 2

// errUsage marks errors that are the user's configuration or usage; %w
// in usagef keeps flag.ErrHelp visible (help is not an error: exit 0).
type errUsage = cli.UsageError

func usagef(format string, args ...any) error { return cli.Usagef(format, args...) }

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"up", "run the local network: embedded NATS and 3 nodes on :3001-:3003", runUp},
	{"node", "run one node (PYCOTR_* variables, flags override)", runNode},
	{"status", "show the network's nodes, asked over NATS", runStatus},
	{"genesis", "rewrite the genesis file from the model", runGenesis},
	{"wallet", "keep keys, buy coins with a card, send, show balances and history", cli.RunWallet},
	{"chain", "show the best chain: its tip and last blocks", cli.RunChain},
	{"block", "show a block by hash or height", cli.RunBlock},
	{"tx", "show a transaction and where it is", cli.RunTx},
	{"mempool", "show the pending transactions", cli.RunMempool},
	{"lab", "the fork lab: cut a node off the network, heal it (docs/LAB.md)", cli.RunLab},
	{"probe", "exit 0 when a URL answers 2xx (health checks)", runProbe},
	{"bench", "measure this machine: PoW, intake, propagation, sync, network cost, memory", runBench},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 && args[0] == "help" { // `pycotr help wallet` is `pycotr wallet -h`
		args = []string{args[1], "-h"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			rest := args[1:]
			if len(rest) > 0 && rest[0] == "help" && c.name != "wallet" && c.name != "lab" { // groups have `help SUB`
				rest = []string{"-h"}
			}
			err := c.run(ctx, rest, stdout, stderr)
			var ue errUsage
			switch {
			case err == nil, errors.Is(err, flag.ErrHelp):
				return 0
			case errors.As(err, &ue):
				fmt.Fprintf(stderr, "pycotr %s: %v\n", c.name, ue)
				return exitUsage
			default:
				fmt.Fprintf(stderr, "pycotr %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "pycotr: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

// summaries are the commands' summaries by name, for their -h (filled from
// commands at start-up: a command's run function cannot read commands).
var summaries = map[string]string{}

func init() {
	for _, c := range commands {
		summaries[c.name] = c.summary
	}
}

// newFlagSet is a command's flag set whose -h prints the command's usage
// line and summary before its flags, to w.
func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintf(w, "usage: pycotr %s [flags]\n\n", name)
		if s := summaries[name]; s != "" {
			fmt.Fprintf(w, "%s.\n\n", strings.ToUpper(s[:1])+s[1:])
		}
		fmt.Fprintln(w, "flags:")
		fs.PrintDefaults()
	}
	return fs
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: pycotr <command> [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nrun 'pycotr <command> -h' for a command's flags")
}
