package httpapi

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

// The HTTP bounds of issue 15: what hostile clients cannot make a node
// spend. Each bound is sent more than it allows and answers its status.

// readKeyFile reads a throw-away test key of testdata/keys: rsa8192 and
// rsa4104 made by crypto/rsa, rsa2048e3 built by hand with e = 3 (too
// slow or impossible to make in a test).
func readKeyFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/keys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestCompatKeyBounds: add_to_pending_transactions refuses a key it will
// not sign with (over 4096 bits: by the hex's length before any parse,
// or by its size after; an exponent other than 65537) and a sender who
// cannot pay, all before any signature; it signs for one who can.
func TestCompatKeyBounds(t *testing.T) {
	var parses, signs atomic.Int64
	fa := newFakeAPI(t, func(c *Config) {
		c.hooks.parseKey = func() { parses.Add(1) }
		c.hooks.sign = func() { signs.Add(1) }
	})
	rich, poor := testKey(t, 1), testKey(t, 3)
	mint := signedMint(t, 1, 100)
	if err := fa.chain.AcceptTx(&mint); err != nil {
		t.Fatal(err)
	}
	fa.mine(t, addr(t, 0))
	body := func(from chain.Address, keyHex string, amount, fee int64) string {
		return jsonBody(t, map[string]any{"from_address": string(from), "to_address": string(addr(t, 2)),
			"from_private_key": keyHex, "amount": amount, "attached_fee": fee})
	}
	keyAddr := func(keyHex string) chain.Address { // also of keys chain.ParsePrivateKey refuses
		der, err := hex.DecodeString(keyHex)
		if err != nil {
			t.Fatal(err)
		}
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			t.Fatal(err)
		}
		return chain.AddressOf(&k.PublicKey)
	}
	big, over, e3 := readKeyFile(t, "rsa8192.hex"), readKeyFile(t, "rsa4104.hex"), readKeyFile(t, "rsa2048e3.hex")
	if len(over) > compatKeyMaxHex {
		t.Fatalf("the 4104-bit key's hex (%d) should pass the length bound (%d) and be refused after its parse", len(over), compatKeyMaxHex)
	}
	cases := []struct {
		name           string
		body           string
		status         int
		code           string
		parsed, signed int64
	}{
		{"8192-bit key: refused by length, never parsed", body(addr(t, 1), big, 1, 0), 422, codeUnsupportedKey, 0, 0},
		{"4104-bit key: parsed, refused", body(keyAddr(over), over, 1, 0), 422, codeUnsupportedKey, 1, 0},
		{"exponent 3: parsed, refused", body(keyAddr(e3), e3, 1, 0), 422, codeUnsupportedKey, 1, 0},
		{"sender without funds", body(addr(t, 3), chain.EncodePrivateKey(poor), 1, 0), 409, "insufficient-funds", 1, 0},
		{"amount plus fee above the balance", body(addr(t, 1), chain.EncodePrivateKey(rich), 100, 1), 409, "insufficient-funds", 1, 0},
		{"amount not positive", body(addr(t, 1), chain.EncodePrivateKey(rich), 0, 0), 422, "bad-amount", 0, 0}, // the key is cached now
		{"a sender who can pay", body(addr(t, 1), chain.EncodePrivateKey(rich), 99, 1), 200, "", 0, 1},
	}
	for _, tc := range cases {
		parses.Store(0)
		signs.Store(0)
		res, hr := fa.doWith("POST", "/add_to_pending_transactions", tc.body, nil)
		if res.status != tc.status || !strings.Contains(string(res.body), map[bool]string{true: "success", false: "error"}[tc.status == 200]) {
			t.Errorf("%s: %d %s, want %d", tc.name, res.status, res.body, tc.status)
			continue
		}
		if tc.status != 200 {
			checkCompatError(t, hr, res.body)
		}
		if parses.Load() != tc.parsed || signs.Load() != tc.signed {
			t.Errorf("%s: %d parses and %d signatures, want %d and %d", tc.name, parses.Load(), signs.Load(), tc.parsed, tc.signed)
		}
	}
	if n, _ := fa.chain.MempoolStats(); n != 1 {
		t.Errorf("mempool holds %d transactions, want only the one paid for", n)
	}
	// The refused keys are not kept: only the two wallets' keys are.
	if n := fa.a.keys.len(); n != 2 {
		t.Errorf("the key ring holds %d keys, want 2", n)
	}
}

// TestKeyGenBound: beyond Config.MaxKeyGen generations at once, create_key
// and POST /api/v1/keys answer 429 with Retry-After at once.
func TestKeyGenBound(t *testing.T) {
	inside, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int64
	fa := newFakeAPI(t, func(c *Config) {
		c.MaxKeyGen = 1
		c.hooks.generateKey = func() (*rsa.PrivateKey, error) {
			if calls.Add(1) == 1 {
				inside <- struct{}{}
				<-release
			}
			return testkit.Key(5), nil
		}
	})
	done := make(chan response)
	go func() { r, _ := fa.doWith("GET", "/create_key", "", nil); done <- r }()
	<-inside // one generation under way: the bound is reached
	for _, route := range []struct{ method, path string }{{"GET", "/create_key"}, {"POST", "/api/v1/keys"}} {
		start := time.Now()
		res, hr := fa.doWith(route.method, route.path, "", nil)
		if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
			t.Errorf("%s %s beyond the bound: %d Retry-After %q: %s", route.method, route.path, res.status, res.header.Get("Retry-After"), res.body)
		}
		checkStyle(t, route.path, hr, res.body, 429, codeTooManyRequests)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s waited %s: a refusal must be at once", route.path, d)
		}
	}
	close(release)
	if r := <-done; r.status != 200 {
		t.Fatalf("the generation under way: %d %s", r.status, r.body)
	}
	if res, _ := fa.doWith("GET", "/create_key", "", nil); res.status != 200 {
		t.Errorf("create_key once the slot is free: %d %s", res.status, res.body)
	}
	if calls.Load() != 2 {
		t.Errorf("%d generations, want 2 (the refused ones generate nothing)", calls.Load())
	}
}

// TestEventStreamBound: beyond Config.MaxEventStreams open streams, one
// more is 503 with Retry-After; a HEAD still answers at once and counts
// for nothing; a closed stream frees its place.
func TestEventStreamBound(t *testing.T) {
	fa := newFakeAPI(t, func(c *Config) { c.MaxEventStreams = 2 })
	open := func() (*http.Response, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, "GET", fa.srv.URL+"/api/v1/events", nil)
		res, err := fa.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cancel(); res.Body.Close() })
		return res, cancel
	}
	first, closeFirst := open()
	second, _ := open()
	for _, r := range []*http.Response{first, second} {
		if r.StatusCode != 200 {
			t.Fatalf("a stream within the bound: %d", r.StatusCode)
		}
	}
	third, _ := open()
	b, _ := io.ReadAll(third.Body)
	if third.StatusCode != http.StatusServiceUnavailable || third.Header.Get("Retry-After") == "" {
		t.Fatalf("a stream beyond the bound: %d Retry-After %q: %s", third.StatusCode, third.Header.Get("Retry-After"), b)
	}
	checkProblem(t, third, b, 503, codeTooManyStreams)
	start := time.Now()
	if res, _ := fa.doWith("HEAD", "/api/v1/events", "", nil); res.status != 200 || res.header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD at the bound: %d %v", res.status, res.header)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("HEAD took %s", d)
	}
	closeFirst()
	first.Body.Close()
	testkit.Eventually(t, 5*time.Second, "a closed stream frees its place", func() bool {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", fa.srv.URL+"/api/v1/events", nil)
		res, err := fa.srv.Client().Do(req)
		if err != nil {
			return false
		}
		defer res.Body.Close()
		return res.StatusCode == 200
	})
}

// TestChainViewCached: get_blockchain and describe_blockchain encode the
// chain once per change (tip or mempool) and share it, also among
// concurrent requests; the answers are those of the uncached views.
func TestChainViewCached(t *testing.T) {
	var encodes atomic.Int64
	fa := newFakeAPI(t, func(c *Config) { c.hooks.encodeChain = func() { encodes.Add(1) } })
	fa.mine(t, addr(t, 0))
	check := func(what string, want int64) {
		t.Helper()
		var asString string
		fa.compat("GET", "/get_blockchain", nil, &asString)
		var view, direct json.RawMessage
		fa.compat("GET", "/describe_blockchain", nil, &view)
		fa.compat("GET", "/get_blockchain", nil, &asString)
		if err := json.Unmarshal([]byte(asString), &direct); err != nil {
			t.Fatalf("%s: get_blockchain's string: %v", what, err)
		}
		fresh, _ := json.Marshal(fa.a.compatChainView())
		if !bytes.Equal(view, direct) || !bytes.Equal(view, fresh) {
			t.Errorf("%s: cached answers differ from the chain's view", what)
		}
		if got := encodes.Load(); got != want {
			t.Errorf("%s: %d encodes, want %d", what, got, want)
		}
	}
	check("first requests", 1)
	check("no change", 1)
	mint := signedMint(t, 1, 10)
	if err := fa.chain.AcceptTx(&mint); err != nil {
		t.Fatal(err)
	}
	check("a transaction pooled", 2)
	fa.mine(t, addr(t, 0))
	check("a block", 3)

	// Concurrent requests after a change share one encode.
	mint = signedMint(t, 2, 10)
	if err := fa.chain.AcceptTx(&mint); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if res, _ := fa.doWith("GET", "/get_blockchain", "", nil); res.status != 200 {
				t.Errorf("get_blockchain: %d", res.status)
			}
		})
	}
	wg.Wait()
	if got := encodes.Load(); got != 4 {
		t.Errorf("8 concurrent requests: %d encodes in all, want 4", got)
	}
}

// TestAdminToken: with Config.AdminToken set, the miner controls and key
// generation answer 401 with WWW-Authenticate unless the request carries
// the token as a bearer token; other routes stay open; the token is never
// logged.
func TestAdminToken(t *testing.T) {
	const token = "s3cret-admin-token"
	var logs bytes.Buffer
	var mu sync.Mutex
	fa := newFakeAPI(t, func(c *Config) {
		c.AdminToken = token
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.hooks.generateKey = func() (*rsa.PrivateKey, error) { return testkit.Key(5), nil }
	})
	guarded := []struct {
		method, path, body string
		ok                 int
	}{
		{"POST", "/stop_mining", "", 200},
		{"POST", "/start_mining", "", 200},
		{"POST", "/update_miner_pause", `{"pause": 2}`, 200},
		{"GET", "/create_key", "", 200},
		{"POST", "/api/v1/keys", "", 201},
		{"POST", "/api/v1/miner/start", "", 200},
		{"POST", "/api/v1/miner/stop", "", 200},
		{"PUT", "/api/v1/miner/pause", `{"pause": 1}`, 200},
		{"PUT", "/api/v1/miner/hashrate", `{"hash_rate": 0}`, 200},
	}
	for _, g := range guarded {
		for _, auth := range []string{"", "Bearer wrong", "Basic " + token, "Bearer " + token + "x", "Bearer"} {
			h := map[string]string{}
			if auth != "" {
				h["Authorization"] = auth
			}
			res, hr := fa.doWith(g.method, g.path, g.body, h)
			if res.status != http.StatusUnauthorized || !strings.HasPrefix(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %q: %d %q, want 401 with WWW-Authenticate: Bearer", g.method, g.path, auth, res.status, res.header.Get("WWW-Authenticate"))
				continue
			}
			checkStyle(t, g.path, hr, res.body, 401, codeUnauthorized)
		}
		if fa.miner.Mining() {
			t.Fatalf("%s %s: an unauthorised request started the miner", g.method, g.path)
		}
		for _, auth := range []string{"Bearer " + token, "bearer  " + token} {
			if res, _ := fa.doWith(g.method, g.path, g.body, map[string]string{"Authorization": auth}); res.status != g.ok {
				t.Errorf("%s %s with the token (%q): %d %s, want %d", g.method, g.path, auth[:6], res.status, res.body, g.ok)
			}
		}
		fa.miner.Stop()
	}
	for _, open := range []string{"/status", "/is_mining", "/get_miner_pause", "/api/v1/miner", "/api/v1/node", "/describe_network"} {
		if res, _ := fa.doWith("GET", open, "", nil); res.status != 200 {
			t.Errorf("GET %s without a token: %d", open, res.status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(logs.String(), token) {
		t.Error("the admin token appears in the log")
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestCORSDefaultOrigins: with no CORSOrigins, the node's own URL and its
// peers' URLs are the allowed origins, read at each request; any other
// origin is not. An explicit list overrides, "*" included.
func TestCORSDefaultOrigins(t *testing.T) {
	fa := newFakeAPI(t, nil)
	fa.fake.PublicURLFn = func() string { return "http://localhost:3001/" }
	fa.peers.Register("http://LOCALHOST:3002")
	allowedBy := func(ta *testAPI, origin string) bool {
		t.Helper()
		res, _ := ta.doWith("OPTIONS", "/start_mining", "", map[string]string{"Origin": origin, "Access-Control-Request-Method": "POST",
			"Access-Control-Request-Headers": "authorization, content-type"})
		got := res.header.Get("Access-Control-Allow-Origin")
		if got != "" && (got != origin || res.header.Get("Access-Control-Allow-Headers") != "authorization, content-type") {
			t.Errorf("preflight from %s: %v", origin, res.header)
		}
		get, _ := ta.doWith("GET", "/status", "", map[string]string{"Origin": origin})
		if (get.header.Get("Access-Control-Allow-Origin") != "") != (got != "") {
			t.Errorf("GET from %s: preflight and request disagree", origin)
		}
		return got != ""
	}
	for origin, want := range map[string]bool{
		"http://localhost:3001":    true, // its own dashboard
		"http://localhost:3002":    true, // a peer's dashboard
		"http://127.0.0.1:3002":    true, // the same, opened by address
		"http://localhost:3003":    false,
		"https://localhost:3001":   false,
		"http://evil.example":      false,
		"null":                     false,
		"http://localhost:3001.ev": false,
	} {
		if got := allowedBy(fa.testAPI, origin); got != want {
			t.Errorf("origin %s allowed %v, want %v", origin, got, want)
		}
	}
	fa.peers.Register("http://10.0.0.7:3003") // a peer that arrives later
	if !allowedBy(fa.testAPI, "http://10.0.0.7:3003") {
		t.Error("a new peer's origin is not allowed")
	}
	open := newFakeAPI(t, func(c *Config) { c.CORSOrigins = []string{"*"} })
	if !allowedBy(open.testAPI, "http://evil.example") {
		t.Error(`CORSOrigins "*" does not allow any origin`)
	}
}
