package httpapi

import (
	"crypto/rsa"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/pycotr/pycotr/chain"
)

// Config configures the HTTP API of one node.
type Config struct {
	// What the API serves: for a *services.Node n, Node: n,
	// Chain: n.Chain(), Miner: n.Miner(), Peers: n.Peers(). All required.
	Node  Node
	Chain ChainReader
	Miner MinerControls
	Peers PeerDirectory
	// The fork lab (lab.go), optional: nil = taken from Node when it has
	// the methods; without them the lab's routes answer 404.
	Isolation Isolation
	Tap       MessageTap

	Logger *slog.Logger // nil = discard

	// MaxBodyBytes bounds request bodies (413 above); default 1 MiB.
	MaxBodyBytes int64
	// CORSOrigins are the browser origins allowed to call the API
	// ("*" for any); none = the node's own public URL and its peers'
	// (PeerDirectory.URLs, read at each request), which is what the
	// dashboard needs to reach the other nodes.
	CORSOrigins []string
	// DevKeys enables POST /api/v1/keys, a development-only key
	// generator (the compatibility create_key route is always on).
	DevKeys bool
	// AdminToken, when set, is required as "Authorization: Bearer
	// <token>" on the miner controls and key generation (401 without);
	// empty = open, as on the local network.
	AdminToken string
	// MaxKeyGen bounds concurrent RSA key generations (create_key,
	// POST /api/v1/keys; 429 beyond); default runtime.NumCPU().
	MaxKeyGen int
	// MaxEventStreams bounds concurrent event streams (503 beyond);
	// default DefaultMaxEventStreams.
	MaxEventStreams int

	// Heartbeat is the event stream's keep-alive interval; default 15 s.
	Heartbeat time.Duration
	// StreamWriteTimeout bounds each write to an event stream: a client
	// that reads nothing for this long is disconnected; default 30 s.
	StreamWriteTimeout time.Duration

	hooks testHooks // tests only
}

// Defaults of the bounds in Config.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxEventStreams = 256
)

// testHooks let a test count and steer the costly steps; all nil in
// production.
type testHooks struct {
	parseKey    func()                          // before each private key parse (compat route)
	sign        func()                          // before each RSA signature the node makes for a client
	encodeChain func()                          // at each encode of the whole-chain view
	generateKey func() (*rsa.PrivateKey, error) // instead of chain.GenerateKey
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.StreamWriteTimeout <= 0 {
		c.StreamWriteTimeout = 30 * time.Second
	}
	if c.MaxKeyGen <= 0 {
		c.MaxKeyGen = runtime.NumCPU()
	}
	if c.MaxEventStreams <= 0 {
		c.MaxEventStreams = DefaultMaxEventStreams
	}
	return c
}

// api holds what the handlers share.
type api struct {
	cfg     Config
	node    Node
	chain   ChainReader
	miner   MinerControls
	peers   PeerDirectory
	log     *slog.Logger
	metrics http.Handler
	mux     *chi.Mux
	keys    *keyRing // the compatibility route's parsed private keys
	hooks   testHooks
	iso     Isolation  // nil: no fork lab
	tap     MessageTap // nil: no message tap

	keygen     chan struct{}  // a slot per key generation under way (MaxKeyGen)
	streams    atomic.Int64   // event streams open (MaxEventStreams)
	chainViews chainViewCache // describe_blockchain's and get_blockchain's answers
}

// New returns the HTTP handler of a node: compatibility routes, /api/v1,
// the event stream, /metrics, /healthz, /readyz and the dashboard at /.
func New(cfg Config) http.Handler { return newRouter(cfg) }

func newRouter(cfg Config) *chi.Mux { return newAPI(cfg).mux }

// newAPI builds the API and its router (a.mux).
func newAPI(cfg Config) *api {
	if cfg.Node == nil || cfg.Chain == nil || cfg.Miner == nil || cfg.Peers == nil {
		panic("httpapi: Config.Node, Chain, Miner and Peers are required")
	}
	cfg = cfg.withDefaults()
	a := &api{cfg: cfg, node: cfg.Node, chain: cfg.Chain, miner: cfg.Miner, peers: cfg.Peers, log: cfg.Logger,
		keys: newKeyRing(compatKeyMax, compatKeyIdle), hooks: cfg.hooks, keygen: make(chan struct{}, cfg.MaxKeyGen)}
	if h := cfg.hooks.parseKey; h != nil {
		a.keys.parseKey = func(s string) (*rsa.PrivateKey, error) { h(); return chain.ParsePrivateKey(s) }
	}
	a.metrics = newMetricsHandler(a)
	a.initLab()

	r := chi.NewRouter()
	a.mux = r
	r.Use(middleware.RequestID, echoRequestID, a.accessLog, a.recoverer, a.cors, a.limitBody, headAsGet)
	r.NotFound(a.notFound)
	r.MethodNotAllowed(a.methodNotAllowed)

	a.compatRoutes(r)
	r.Route("/api/v1", a.v1Routes)
	r.Method(http.MethodGet, "/metrics", a.metrics)
	r.Get("/healthz", a.healthz)
	r.Get("/readyz", a.readyz)
	web := WebHandler() // the dashboard (web.go)
	r.Method(http.MethodGet, "/", web)
	r.Method(http.MethodGet, "/assets/*", web)
	return a
}

// headAsGet routes HEAD as GET on every route, as Flask does: net/http
// sends the GET handler's status and headers and drops its body. (chi's
// middleware.GetHead does this only where no route takes every method, so
// it misses the root of a mounted router such as /api/v1/.) OPTIONS is
// answered in methodNotAllowed, after the CORS preflight.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			if rctx := chi.RouteContext(r.Context()); rctx != nil {
				rctx.RouteMethod = http.MethodGet
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (a *api) notFound(w http.ResponseWriter, r *http.Request) {
	a.writeError(w, r, notFound("no route %s %s", r.Method, r.URL.Path))
}

// methodNotAllowed answers a method the path does not take. OPTIONS, which
// every route takes as Flask's do, is 200 with the Allow header and no
// body; anything else is 405 with the same Allow header.
func (a *api) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allowed := a.allowedMethods(r.URL.Path)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	if r.Method == http.MethodOptions {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	a.writeError(w, r, newError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
		"%s not allowed on %s (allowed: %v)", r.Method, r.URL.Path, allowed))
}

// allowedMethods lists the methods a path takes: its routes' methods, HEAD
// wherever GET is, and OPTIONS.
func (a *api) allowedMethods(path string) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		route := m
		if m == http.MethodHead {
			route = http.MethodGet // GetHead serves HEAD with the GET route
		}
		if a.mux.Match(chi.NewRouteContext(), route, path) {
			allowed = append(allowed, m)
		}
	}
	return append(allowed, http.MethodOptions)
}
