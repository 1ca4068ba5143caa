package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pycotr/pycotr/internal/cli"
)

// TestEveryCommandHelpExitsZero: -h, --help and help print a usage text
// and exit 0 for every command and every wallet sub-command (as `help SUB`
// too), run through the same dispatcher as the binary.
func TestEveryCommandHelpExitsZero(t *testing.T) {
	var lines [][]string
	for _, c := range commands {
		lines = append(lines, []string{c.name})
	}
	lines = append(lines, nil) // pycotr itself
	for _, s := range cli.WalletCommands() {
		lines = append(lines, []string{"wallet", s})
	}
	for _, s := range cli.LabCommands() {
		lines = append(lines, []string{"lab", s})
	}
	if len(lines) < 20 {
		t.Fatalf("only %d commands: %v", len(lines), lines)
	}
	for _, line := range lines {
		forms := [][]string{append(line, "-h"), append(line, "--help"), append(line, "help")}
		switch len(line) {
		case 1:
			forms = append(forms, []string{"help", line[0]})
		case 2:
			forms = append(forms, []string{line[0], "help", line[1]})
		}
		for _, args := range forms {
			t.Run(strings.Join(args, " "), func(t *testing.T) {
				args = append([]string(nil), args...)
				var out, errOut bytes.Buffer
				code := run(context.Background(), args, &out, &errOut)
				if code != 0 {
					t.Fatalf("exit %d, want 0\n%s%s", code, out.String(), errOut.String())
				}
				if len(line) > 0 && line[0] == "up" || len(line) > 0 && line[0] == "node" {
					return // their flag sets print on os.Stderr
				}
				if text := strings.ToLower(out.String() + errOut.String()); !strings.Contains(text, "usage") {
					t.Fatalf("no usage text:\n%s", text)
				}
			})
		}
	}
}

// TestUnknownCommandListsAndExitsTwo: an unknown command or wallet
// sub-command prints the list of commands and exits 2.
func TestUnknownCommandListsAndExitsTwo(t *testing.T) {
	cases := map[string]struct {
		args []string
		want string // a line of the list
	}{
		"command":        {[]string{"frobnicate"}, "mempool"},
		"wallet command": {[]string{"wallet", "frobnicate"}, "history"},
		"no command":     {nil, "wallet"},
		"bad flag":       {[]string{"chain", "--nope"}, "-blocks"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run(context.Background(), c.args, &out, &errOut); code != exitUsage {
				t.Fatalf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(errOut.String(), c.want) {
				t.Fatalf("stderr does not list %q:\n%s", c.want, errOut.String())
			}
		})
	}
}
