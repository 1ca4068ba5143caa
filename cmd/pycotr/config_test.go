package main

import (
	"github.com/pycotr/pycotr/internal/config"

	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/kelseyhightower/envconfig"

	"github.com/pycotr/pycotr/internal/cli"
)

// knownVariables lists every PYCOTR_* variable the binary reads: those
// envconfig derives from nodeConfig, and the wallet's and explorer's.
func knownVariables(t *testing.T) []string {
	t.Helper()
	var c config.Node
	var buf bytes.Buffer
	if err := envconfig.Usaget(config.EnvPrefix, &c, &buf, template.Must(template.New("v").Parse("{{range .}}{{.Key}}\n{{end}}"))); err != nil {
		t.Fatal(err)
	}
	known := strings.Fields(buf.String())
	for _, v := range cli.Variables {
		known = append(known, v.Name)
	}
	return known
}

var variableRE = regexp.MustCompile(`PYCOTR_[A-Z_]+[A-Z]`)

func variablesIn(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range variableRE.FindAllString(string(data), -1) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// TestEveryDocumentedVariableIsRead: the compose file, the Taskfile, the
// Dockerfile and the README use only variables the binary reads, and the
// README's configuration table lists every one of them.
func TestEveryDocumentedVariableIsRead(t *testing.T) {
	known := knownVariables(t)
	if len(known) < 15 {
		t.Fatalf("only %d variables found: %v", len(known), known)
	}
	for _, f := range []string{"../../compose/docker-compose.yml", "../../compose/leaf.yml", "../../Taskfile.yml", "../../Dockerfile", "../../README.md"} {
		for _, v := range variablesIn(t, f) {
			if !slices.Contains(known, v) {
				t.Errorf("%s uses %s, which the binary does not read", f, v)
			}
		}
	}
	readme := variablesIn(t, "../../README.md")
	for _, v := range known {
		if !slices.Contains(readme, v) {
			t.Errorf("README.md does not document %s", v)
		}
	}
	text := readFile(t, "../../README.md")
	for _, v := range cli.Variables {
		if row := fmt.Sprintf("| `%s` | `%s` | %s |", v.Name, v.Default, v.Meaning); !strings.Contains(text, row) {
			t.Errorf("README.md's wallet table lacks the row\n%s", row)
		}
	}
}

func TestBadConfigNamesTheVariable(t *testing.T) {
	cases := map[string]string{
		"PYCOTR_MINER_PAUSE":       "abc",
		"PYCOTR_MINER_MODE":        "fast",
		"PYCOTR_HTTP_ADDR":         "nowhere",
		"PYCOTR_PUBLIC_URL":        "ftp://x",
		"PYCOTR_LOG_LEVEL":         "loud",
		"PYCOTR_LOG_FORMAT":        "xml",
		"PYCOTR_MINER_KEY":         "zz",
		"PYCOTR_NATS_URL":          "::",
		"PYCOTR_MAX_EVENT_STREAMS": "0",
		"PYCOTR_ADMIN_TOKEN":       "secret with spaces",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			_, err := loadNodeConfig(nil)
			if name == "PYCOTR_MINER_KEY" && err == nil {
				_, err = minerKey(config.Node{MinerKey: value}, nil)
			}
			var ue errUsage
			if err == nil || !errors.As(err, &ue) {
				t.Fatalf("want a usage error, got %v", err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("error %q does not name %s", err, name)
			}
			if name == "PYCOTR_ADMIN_TOKEN" && strings.Contains(err.Error(), value) {
				t.Fatalf("error %q shows the token", err)
			}
		})
	}
}

func TestOriginalVariablesAreRead(t *testing.T) {
	t.Setenv("MINER_PAUSE", "7")
	t.Setenv("MINER_NICK_NAME", "alice")
	c, err := loadNodeConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.MinerPause.String() != "7s" || c.NodeName != "alice" {
		t.Fatalf("got pause %s name %q", c.MinerPause.String(), c.NodeName)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	t.Setenv("PYCOTR_MINER_PAUSE", "5")
	c, err := loadNodeConfig([]string{"--pause", "0.5", "--name", "node-9"})
	if err != nil {
		t.Fatal(err)
	}
	if c.MinerPause.String() != "500ms" || c.NodeName != "node-9" {
		t.Fatalf("got pause %s name %q", c.MinerPause.String(), c.NodeName)
	}
}
