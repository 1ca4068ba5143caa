package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pycotr/pycotr/internal/wallet"
)

// UsageError marks a mistake in the command line: cmd/pycotr exits 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usagef makes a UsageError; %w keeps the wrapped error (flag.ErrHelp
// among them) visible to errors.Is.
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// Environment variables the commands read.
const (
	EnvNodeURL = "PYCOTR_NODE_URL" // the node to talk to (--node)
)

// DefaultNodeURL is the node the commands talk to without --node or
// PYCOTR_NODE_URL: node-1 of `pycotr up`.
const DefaultNodeURL = "http://localhost:3001"

// Variables lists the variables the wallet and explorer read, with their
// defaults and meaning, for the README's table and its test.
var Variables = []struct{ Name, Default, Meaning string }{
	{EnvNodeURL, DefaultNodeURL, "the node the wallet and explorer commands talk to (`--node` overrides it)"},
	{wallet.EnvFile, "<config dir>/pycotr/wallet.json", "the wallet's key file"},
}

// env is where a command writes and what it reads from its surroundings.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	now            func() time.Time
}

func newEnv(stdout, stderr io.Writer) *env {
	return &env{stdin: os.Stdin, stdout: stdout, stderr: stderr, now: time.Now}
}

// spec describes a command for its usage text.
type spec struct {
	path    string // "wallet send"
	args    string // "NAME --to NAME|ADDRESS --amount A"
	summary string
	details string // more lines after the summary, optional
}

// nodeFlag adds --node, defaulting to PYCOTR_NODE_URL or DefaultNodeURL.
func nodeFlag(fs *flag.FlagSet) *string {
	def := os.Getenv(EnvNodeURL)
	if def == "" {
		def = DefaultNodeURL
	}
	return fs.String("node", def, "the node's `URL` ("+EnvNodeURL+")")
}

// jsonFlag adds --json.
func jsonFlag(fs *flag.FlagSet) *bool { return fs.Bool("json", false, "print JSON for scripts") }

// newFlags makes a command's flag set: errors and -h print to stderr, with
// a usage text built from the spec.
func (e *env) newFlags(s spec) *flag.FlagSet {
	fs := flag.NewFlagSet("pycotr "+s.path, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: pycotr %s %s\n\n%s\n", s.path, s.args, s.summary)
		if s.details != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimRight(s.details, "\n"))
		}
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(w, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse reads flags and positional arguments in any order (`send alice
// --to bob` as well as `send --to bob alice`), wanting between min and max
// positional ones. "help" as the first argument prints the usage, as -h
// does; both return flag.ErrHelp.
func parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	if len(args) > 0 && args[0] == "help" {
		fs.Usage()
		return nil, flag.ErrHelp
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, flag.ErrHelp
			}
			return nil, Usagef("%w", err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...) // everything after "--" is positional
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < min:
		return nil, Usagef("missing arguments: usage: %s", usageLine(fs))
	case len(pos) > max:
		return nil, Usagef("unexpected argument %q: usage: %s", pos[max], usageLine(fs))
	}
	return pos, nil
}

// usageLine is the first line of a flag set's usage, without "usage: ".
func usageLine(fs *flag.FlagSet) string {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.Usage()
	fs.SetOutput(out)
	line, _, _ := strings.Cut(b.String(), "\n")
	return strings.TrimPrefix(line, "usage: ")
}

// group is a command with sub-commands, like `pycotr wallet`.
type group struct {
	name, summary string
	subs          []sub
}

type sub struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) error
}

// dispatch runs the sub-command args[0] names; none, "help", -h or --help
// print the list (exit 2 for none, 0 for help); an unknown one prints it
// too, with exit 2. `help SUB` is `SUB -h`.
func (g *group) dispatch(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		g.usage(e.stderr)
		return Usagef("missing %s command", g.name)
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			return g.dispatch(ctx, e, []string{args[1], "-h"})
		}
		g.usage(e.stderr)
		return flag.ErrHelp
	}
	for _, s := range g.subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
	}
	g.usage(e.stderr)
	return Usagef("unknown %s command %q", g.name, args[0])
}

func (g *group) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: pycotr %s <command> [flags]\n\n%s\n\ncommands:\n", g.name, g.summary)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range g.subs {
		fmt.Fprintf(tw, "  %s\t%s\n", s.name, s.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nrun 'pycotr %s <command> -h' for a command's flags\n", g.name)
}
