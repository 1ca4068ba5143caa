package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeTwoCommands holds the README's promise: its opening shows the
// command that runs the network and the command that runs the tests, and CI
// (.ci/run) runs that test command verbatim, so what a newcomer types is
// what CI proves.
func TestReadmeTwoCommands(t *testing.T) {
	readme := readFile(t, "../../README.md")
	run := commandAfter(t, readme, "Run the network")
	if run != "go run ./cmd/pycotr up" {
		t.Errorf("README's run command = %q, want %q", run, "go run ./cmd/pycotr up")
	}
	test := commandAfter(t, readme, "Run the tests")
	ci := readFile(t, "../../.ci/run")
	found := false
	for _, line := range strings.Split(ci, "\n") {
		if strings.TrimSpace(line) == test {
			found = true
		}
	}
	if !found {
		t.Errorf(".ci/run does not run the README's test command %q on a line of its own:\n%s", test, ci)
	}
	if first := strings.Fields(test)[0]; strings.HasPrefix(first, "scripts/") {
		st, err := os.Stat("../../" + first)
		if err != nil {
			t.Fatalf("the README's test command %s: %v", first, err)
		}
		if st.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable (mode %v)", first, st.Mode())
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// commandAfter returns the first indented (code) line after the line that
// starts with lead, within the README's first 40 lines.
func commandAfter(t *testing.T, doc, lead string) string {
	t.Helper()
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines) && i < 40; i++ {
		if !strings.HasPrefix(lines[i], lead) {
			continue
		}
		for _, l := range lines[i+1 : min(i+6, len(lines))] {
			if strings.HasPrefix(l, "    ") && strings.TrimSpace(l) != "" {
				return strings.TrimSpace(l)
			}
		}
	}
	t.Fatalf("README.md: no command under a line starting %q in its first 40 lines", lead)
	return ""
}
