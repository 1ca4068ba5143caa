package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// TestOpenAPIMatchesRouter: every route the document describes exists,
// and every /api/v1 route is described.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Servers []struct{ URL string }                `json:"servers"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("openapi %q, servers %v", doc.OpenAPI, doc.Servers)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			documented[strings.ToUpper(m)+" /api/v1"+strings.TrimSuffix(p, "/")] = true
		}
	}
	routed := map[string]bool{}
	fa := newFakeAPI(t, nil)
	mux := newRouter(Config{Node: fa.fake, Chain: fa.chain, Miner: fa.miner, Peers: fa.peers})
	err := chi.Walk(mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = strings.TrimSuffix(route, "/")
		if route == "/api/v1" || strings.HasPrefix(route, "/api/v1/") {
			routed[method+" "+route] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for r := range routed {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !routed[d] {
			t.Errorf("openapi.json describes %s, which the router lacks", d)
		}
	}
	keys := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if !slices.Equal(keys(routed), keys(documented)) || len(routed) < 15 {
		t.Logf("routed %v", keys(routed))
	}
}

func TestOpenAPIServed(t *testing.T) {
	ta := startAPI(t)
	res := ta.do("GET", "/api/v1/openapi.json", "", "")
	if res.status != 200 || !json.Valid(res.body) || string(res.body) != string(openAPI) {
		t.Errorf("openapi.json: %d", res.status)
	}
}
