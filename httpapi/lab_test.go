package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/internal/testkit"
)

// TestLabIsolationRoutes: PUT cuts the node off (GET /node shows until
// when), out-of-range seconds are 422, DELETE and seconds 0 heal; a node
// without the lab answers 404.
func TestLabIsolationRoutes(t *testing.T) {
	srv := startServer(t)
	ta := newTestAPI(t, startNode(t, srv, 0), nil)
	startNode(t, srv, 1)
	const js = "application/json"
	var node struct {
		IsolatedUntil *time.Time `json:"isolated_until"`
	}
	decode := func(res response, v any) {
		t.Helper()
		if err := json.Unmarshal(res.body, v); err != nil {
			t.Fatalf("%s: %v", res.body, err)
		}
	}
	res := ta.do("GET", "/api/v1/node", "", "")
	if decode(res, &node); res.status != 200 || node.IsolatedUntil != nil || !strings.Contains(string(res.body), `"isolated_until":null`) {
		t.Fatalf("GET /node before: %d %s", res.status, res.body)
	}
	var iso isolationView
	res = ta.do("PUT", "/api/v1/node/isolation", js, `{"seconds": 30}`)
	if decode(res, &iso); res.status != 200 || !iso.Isolated || iso.Seconds < 25 || iso.Seconds > 30 || iso.MaxSeconds != 600 || iso.IsolatedUntil == nil {
		t.Fatalf("PUT isolation: %d %s", res.status, res.body)
	}
	if !ta.node.Lab().IsolatedUntil().Truncate(time.Millisecond).Equal(*iso.IsolatedUntil) {
		t.Errorf("isolated_until %v, node says %v", iso.IsolatedUntil, ta.node.Lab().IsolatedUntil())
	}
	res = ta.do("GET", "/api/v1/node", "", "")
	if decode(res, &node); node.IsolatedUntil == nil || !node.IsolatedUntil.Equal(*iso.IsolatedUntil) {
		t.Fatalf("GET /node while isolated: %s", res.body)
	}
	for body, want := range map[string]int{`{"seconds": 601}`: 422, `{"seconds": -1}`: 422, `{}`: 400, `{"secs": 3}`: 400, `{"seconds": "3"}`: 400} {
		if res := ta.do("PUT", "/api/v1/node/isolation", js, body); res.status != want {
			t.Errorf("PUT %s: %d, want %d: %s", body, res.status, want, res.body)
		}
	}
	if res := ta.do("DELETE", "/api/v1/node/isolation", "", ""); res.status != 200 || !strings.Contains(string(res.body), `"isolated":false`) {
		t.Errorf("DELETE: %d %s", res.status, res.body)
	}
	if !ta.node.Lab().IsolatedUntil().IsZero() {
		t.Error("the node is still isolated after DELETE")
	}
	ta.do("PUT", "/api/v1/node/isolation", js, `{"seconds": 2.5}`)
	if res := ta.do("PUT", "/api/v1/node/isolation", js, `{"seconds": 0}`); res.status != 200 || !ta.node.Lab().IsolatedUntil().IsZero() {
		t.Errorf("PUT seconds 0 did not heal: %d %s", res.status, res.body)
	}

	fa := newFakeAPI(t, nil) // a node without the lab
	for _, r := range [][2]string{{"GET", "/api/v1/node/isolation"}, {"DELETE", "/api/v1/node/isolation"}, {"GET", "/api/v1/tap"}} {
		if res := fa.do(r[0], r[1], "", ""); res.status != 404 {
			t.Errorf("%s %s without a lab: %d", r[0], r[1], res.status)
		}
	}
}

// TestLabTapStream: the tap stream says hello with the nats sub command,
// then shows the blocks a peer announces (in, with its name) and the node's
// own (out), filtered by subject; a bad filter is 400.
func TestLabTapStream(t *testing.T) {
	srv := startServer(t)
	ta := newTestAPI(t, startNode(t, srv, 0), nil)
	peer := startNode(t, srv, 1)
	testkit.Eventually(t, 5*time.Second, "the peer's name is known", func() bool { return len(ta.node.Peers().List()) == 1 })

	if res := ta.do("GET", "/api/v1/tap?subject=pycotr..x", "", ""); res.status != 400 {
		t.Errorf("bad filter: %d %s", res.status, res.body)
	}
	ch := openSSE(t, ta.srv.URL+"/api/v1/tap?subject=pycotr.block")
	hello := waitSSE(t, ch, 5*time.Second, "hello", func(e sseEvent) bool { return e.name == "hello" })
	var h tapHello
	if err := json.Unmarshal([]byte(hello.data), &h); err != nil || h.NATSSub != "nats sub 'pycotr.block'" || h.Prefix != "pycotr" || h.Node != "node-1" {
		t.Fatalf("hello %s (%v)", hello.data, err)
	}
	peer.Miner().Start()
	e := waitSSE(t, ch, 10*time.Second, "a block from the peer", func(e sseEvent) bool { return e.name == "msg" })
	peer.Miner().Stop()
	var m tapView
	if err := json.Unmarshal([]byte(e.data), &m); err != nil {
		t.Fatal(err)
	}
	if m.Dir != "in" || m.Subject != "pycotr.block" || m.NodeName != "node-2" || m.Node != peer.ID() || m.Size == 0 ||
		!strings.HasPrefix(m.Summary, "block #") {
		t.Errorf("tap message %+v", m)
	}
	ta.node.Miner().Start()
	e = waitSSE(t, ch, 10*time.Second, "the node's own block", func(e sseEvent) bool {
		return e.name == "msg" && strings.Contains(e.data, `"dir":"out"`)
	})
	ta.node.Miner().Stop()
	if err := json.Unmarshal([]byte(e.data), &m); err != nil || m.Subject != "pycotr.block" || m.NodeName != "node-1" {
		t.Errorf("own block %s (%v)", e.data, err)
	}
}

// openSSE opens any event stream and parses it in the background.
func openSSE(t *testing.T, url string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	ch := make(chan sseEvent, 1024)
	go readSSE(res.Body, ch)
	return ch
}

// recordTap records the tap stream's recent messages (a card purchase's
// among them) as the response of GET /api/v1/tap, for TestNoPrivateKeyLeaks.
func (ta *testAPI) recordTap(t *testing.T) {
	t.Helper()
	tx := signedMint(t, 6, 3)
	if err := ta.node.SubmitTx(&tx); err != nil {
		t.Fatal(err)
	}
	ch := openSSE(t, ta.srv.URL+"/api/v1/tap")
	var buf strings.Builder
	waitSSE(t, ch, 5*time.Second, "the purchase in the tap", func(e sseEvent) bool {
		buf.WriteString(e.name + ": " + e.data + "\n")
		return e.name == "msg" && strings.Contains(e.data, tx.ID[:8])
	})
	ta.mu.Lock()
	ta.responses = append(ta.responses, recorded{route: "GET /api/v1/tap", body: []byte(buf.String())})
	ta.mu.Unlock()
}
