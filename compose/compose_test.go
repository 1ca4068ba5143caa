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
