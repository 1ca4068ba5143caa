// Package compose holds the Docker Compose cluster: three NATS servers
// joined by routes and three Pycotr nodes. No Docker engine runs where the
// tests do, so this test checks the file's structure instead; the
// variables it sets are checked against the binary in cmd/pycotr.
package compose

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"
)

type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Build       any               `yaml:"build"`
		Command     []string          `yaml:"command"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Healthcheck struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		DependsOn map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

var routeRE = regexp.MustCompile(`nats-route://(nats-\d):6222`)

func TestComposeStructure(t *testing.T) {
	data, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	servers := []string{"nats-1", "nats-2", "nats-3"}
	for i, name := range servers {
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if s.Image == "" || !strings.HasPrefix(s.Image, "nats:") {
			t.Errorf("%s: image %q, want the official nats image", name, s.Image)
		}
		if len(s.Healthcheck.Test) == 0 {
			t.Errorf("%s: no health check", name)
		}
		conf := fmt.Sprintf("nats-%d.conf", i+1)
		if !slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasPrefix(v, "./"+conf+":") }) {
			t.Errorf("%s: %s is not mounted", name, conf)
		}
		text, err := os.ReadFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		var routes []string
		for _, m := range routeRE.FindAllStringSubmatch(string(text), -1) {
			routes = append(routes, m[1])
		}
		slices.Sort(routes)
		want := slices.DeleteFunc(slices.Clone(servers), func(s string) bool { return s == name })
		if !slices.Equal(routes, want) {
			t.Errorf("%s routes to %v, want the other two %v", conf, routes, want)
		}
		if !strings.Contains(string(text), "max_payload: 8MB") {
			t.Errorf("%s: max_payload must be 8MB, room for a block page", conf)
		}
		if !strings.Contains(string(text), "name: pycotr") {
			t.Errorf("%s: not in cluster pycotr", conf)
		}
	}
	for i := 1; i <= 3; i++ {
		name := fmt.Sprintf("node-%d", i)
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("no service %s", name)
		}
		if s.Build == nil {
			t.Errorf("%s: not built from the Dockerfile", name)
		}
		if want := fmt.Sprintf("300%d:3001", i); !slices.Contains(s.Ports, want) {
			t.Errorf("%s: ports %v, want %s published", name, s.Ports, want)
		}
		if len(s.Healthcheck.Test) == 0 || !slices.Contains(s.Healthcheck.Test, "probe") {
			t.Errorf("%s: health check %v, want the binary's probe", name, s.Healthcheck.Test)
		}
		urls := strings.Split(s.Environment["PYCOTR_NATS_URL"], ",")
		if len(urls) != 3 || urls[0] != fmt.Sprintf("nats://nats-%d:4222", i) {
			t.Errorf("%s: PYCOTR_NATS_URL %q, want its own server nats-%d first, then the two others", name, s.Environment["PYCOTR_NATS_URL"], i)
		}
		for _, srv := range servers {
			if _, ok := s.DependsOn[srv]; !ok {
				t.Errorf("%s does not wait for %s", name, srv)
			}
		}
		if s.Environment["PYCOTR_NODE_NAME"] != name {
			t.Errorf("%s: PYCOTR_NODE_NAME %q", name, s.Environment["PYCOTR_NODE_NAME"])
		}
		for k, v := range s.Environment {
			if strings.Contains(k, "KEY") && !strings.Contains(k, "FILE") && v != "" {
				t.Errorf("%s sets %s: no keys in the compose file (the nodes use the labelled development keys)", name, k)
			}
		}
	}
}

// TestLeafComposeFile: compose/leaf.yml runs a hub whose configuration the
// real nats-server parses, with a password-protected leaf-node listener,
// and nodes that join it as leaf nodes (services' TestLeafNodesShareOneChain
// runs that topology for real).
func TestLeafComposeFile(t *testing.T) {
	data, err := os.ReadFile("leaf.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("leaf.yml: %v", err)
	}
	hub, ok := f.Services["hub"]
	if !ok || !strings.HasPrefix(hub.Image, "nats:") || !slices.Contains(hub.Volumes, "./hub.conf:/etc/nats/hub.conf:ro") {
		t.Fatalf("leaf.yml: no hub running hub.conf: %+v", hub)
	}
	t.Setenv("LEAF_PASSWORD", "test-leaf-pw")
	opts, err := server.ProcessConfigFile("hub.conf")
	if err != nil {
		t.Fatalf("hub.conf: %v", err)
	}
	if opts.LeafNode.Port != 7422 || opts.LeafNode.Username != "leaf" || opts.LeafNode.Password != "test-leaf-pw" {
		t.Fatalf("hub.conf leafnodes: port %d user %q", opts.LeafNode.Port, opts.LeafNode.Username)
	}
	for _, name := range []string{"node-a", "node-b"} {
		s, ok := f.Services[name]
		if !ok {
			t.Fatalf("leaf.yml: no %s", name)
		}
		r := s.Environment["PYCOTR_NATS_LEAFNODE_REMOTES"]
		if !strings.HasPrefix(r, "nats-leaf://leaf:") || !strings.HasSuffix(r, "@hub:7422") || s.Environment["PYCOTR_NATS_URL"] != "" {
			t.Errorf("%s: PYCOTR_NATS_LEAFNODE_REMOTES %q, want the hub as its leaf remote and no PYCOTR_NATS_URL", name, r)
		}
	}
}
