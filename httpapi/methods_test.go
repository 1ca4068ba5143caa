package httpapi

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// routeURL makes a concrete path of a chi route pattern: each {param} gets
// a value of the right form, a trailing * a file.
func routeURL(t *testing.T, route string) string {
	t.Helper()
	samples := map[string]string{
		"id": "3c8e5b7a-0d3e-4c3a-9a51-6f0b2f1c9d11", "hash": strings.Repeat("ab", 32),
		"height": "0", "address": "3082", "ref": "0", "name": "node-1",
	}
	parts := strings.Split(route, "/")
	for i, p := range parts {
		switch {
		case p == "*":
			parts[i] = "app.js"
		case strings.HasPrefix(p, "{"):
			name := strings.Trim(p, "{}")
			name, _, _ = strings.Cut(name, ":")
			v, ok := samples[name]
			if !ok {
				t.Fatalf("route %s: no sample value for {%s}", route, name)
			}
			parts[i] = v
		}
	}
	return strings.Join(parts, "/")
}

type walkedRoute struct{ method, route string }

func walkRoutes(t *testing.T) []walkedRoute {
	t.Helper()
	var out []walkedRoute
	fa := newFakeAPI(t, nil)
	err := chi.Walk(newRouter(Config{Node: fa.fake, Chain: fa.chain, Miner: fa.miner, Peers: fa.peers}), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, walkedRoute{method, route})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHeadOnEveryGetRoute: as Flask does, HEAD on every GET route answers
// the GET's status and headers with no body — the compatibility routes,
// /api/v1, /metrics, health and the dashboard alike — and HEAD on the
// event stream returns at once instead of holding the connection.
func TestHeadOnEveryGetRoute(t *testing.T) {
	ta := startAPI(t)
	ta.node.Miner().Stop()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	send := func(method, path string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequestWithContext(context.Background(), method, ta.srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, body
	}
	// Bodies that differ between two requests by nature: a new key per
	// call, counters that count the requests themselves.
	varyingLength := map[string]bool{"/create_key": true, "/metrics": true}
	gets := 0
	for _, r := range walkRoutes(t) {
		if r.method != http.MethodGet {
			continue
		}
		gets++
		path := routeURL(t, r.route)
		t.Run(r.route, func(t *testing.T) {
			head, body := send(http.MethodHead, path)
			if len(body) != 0 {
				t.Fatalf("HEAD %s sent a body of %d bytes", path, len(body))
			}
			if r.route == "/api/v1/events" || r.route == "/api/v1/tap" {
				if head.StatusCode != http.StatusOK || head.Header.Get("Content-Type") != "text/event-stream" {
					t.Fatalf("HEAD %s = %d %q", path, head.StatusCode, head.Header.Get("Content-Type"))
				}
				return // a GET is a stream without end: nothing to compare with
			}
			get, _ := send(http.MethodGet, path)
			if head.StatusCode != get.StatusCode {
				t.Fatalf("HEAD %s = %d, GET = %d", path, head.StatusCode, get.StatusCode)
			}
			if head.StatusCode == http.StatusMethodNotAllowed || head.StatusCode == http.StatusNotFound && r.route == "/" {
				t.Fatalf("HEAD %s = %d", path, head.StatusCode)
			}
			ignore := []string{"Date", "X-Request-Id"}
			if varyingLength[r.route] {
				ignore = append(ignore, "Content-Length")
			} else if head.ContentLength != get.ContentLength {
				t.Errorf("HEAD %s Content-Length %d, GET %d", path, head.ContentLength, get.ContentLength)
			}
			for k := range mergeKeys(head.Header, get.Header) {
				if slices.Contains(ignore, k) {
					continue
				}
				if h, g := head.Header.Values(k), get.Header.Values(k); !slices.Equal(h, g) {
					t.Errorf("HEAD %s header %s = %q, GET %q", path, k, h, g)
				}
			}
		})
	}
	if gets < 20 {
		t.Fatalf("chi.Walk listed only %d GET routes", gets)
	}
}

func mergeKeys(a, b http.Header) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// TestOptionsOnEveryRoute: OPTIONS on every route is 200 with an Allow
// header naming the route's methods (HEAD wherever GET is) and OPTIONS, and
// no body, as Flask answers; another method the path does not take is 405
// with the same Allow header.
func TestOptionsOnEveryRoute(t *testing.T) {
	ta := startAPI(t)
	for _, r := range walkRoutes(t) {
		path := routeURL(t, r.route)
		res := ta.do(http.MethodOptions, path, "", "")
		if res.status != http.StatusOK || len(res.body) != 0 {
			t.Errorf("OPTIONS %s = %d with %d body bytes", path, res.status, len(res.body))
			continue
		}
		allow := strings.Split(res.header.Get("Allow"), ", ")
		want := []string{r.method, http.MethodOptions}
		if r.method == http.MethodGet {
			want = append(want, http.MethodHead)
		}
		for _, m := range want {
			if !slices.Contains(allow, m) {
				t.Errorf("OPTIONS %s: Allow %q lacks %s", path, allow, m)
			}
		}
	}
	res := ta.do(http.MethodDelete, "/status", "", "")
	if res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Fatalf("DELETE /status = %d, Allow %q; want 405 with GET, HEAD, OPTIONS", res.status, res.header.Get("Allow"))
	}
	res = ta.do(http.MethodOptions, "/no/such/route", "", "")
	if res.status != http.StatusNotFound {
		t.Fatalf("OPTIONS on an unknown path = %d, want 404", res.status)
	}
}
