package bench

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/httpapi"
	"github.com/pycotr/pycotr/internal/wait"
	"github.com/pycotr/pycotr/services"
)

// Phases that run a local network in this process: an embedded NATS
// server, nodes on it, their HTTP APIs on 127.0.0.1:0.

// network is a running local network.
type network struct {
	cl     *services.Cluster
	urls   []string // HTTP base URLs, when served
	stops  []func() // stop each HTTP server
	closed bool
}

func (n *network) chains() []*chain.Chain {
	var cs []*chain.Chain
	for _, nd := range n.cl.Nodes {
		cs = append(cs, nd.Chain())
	}
	return cs
}

// Close stops the network; a second call does nothing.
func (n *network) Close() {
	if n.closed {
		return
	}
	n.closed = true
	for _, stop := range n.stops {
		stop()
	}
	n.cl.Close()
}

// startNet starts an embedded NATS server (in-process only) and one node
// per config, with HTTP if withHTTP.
func startNet(ctx context.Context, g *genesis.File, cfgs []services.Config, withHTTP bool) (*network, error) {
	keys, err := genKeys(len(cfgs), 1024)
	if err != nil {
		return nil, err
	}
	for i := range cfgs {
		cfgs[i].Genesis = g
		if cfgs[i].Name == "" {
			cfgs[i].Name = fmt.Sprintf("node-%d", i+1)
		}
		if cfgs[i].MinerKey == nil {
			cfgs[i].MinerKey = keys[i]
		}
	}
	cl, err := services.StartCluster(ctx, services.ClusterConfig{
		NATS: events.ServerConfig{Name: "pycotr-bench"}, Nodes: cfgs,
	})
	if err != nil {
		return nil, err
	}
	n := &network{cl: cl}
	if !withHTTP {
		return n, nil
	}
	for _, nd := range cl.Nodes {
		url, stop, err := serveHTTP(ctx, nd)
		if err != nil {
			n.Close()
			return nil, err
		}
		n.urls = append(n.urls, url)
		n.stops = append(n.stops, stop)
	}
	return n, nil
}

// serveHTTP serves a node's HTTP API on 127.0.0.1:0 until stop.
func serveHTTP(ctx context.Context, n *services.Node) (url string, stop func(), err error) {
	hs := httpapi.NewServer(httpapi.ServerConfig{Addr: "127.0.0.1:0", ShutdownTimeout: time.Second,
		Handler: httpapi.New(httpapi.Config{Node: n, Chain: n.Chain(), Miner: n.Miner(), Peers: n.Peers()})})
	if err := hs.Listen(); err != nil {
		return "", nil, err
	}
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Run(hctx) }()
	return "http://" + hs.Addr(), func() { cancel(); <-done }, nil
}

// lookupOverHTTP sends n GET /balance_for requests, one at a time, for
// the accounts next picks, and returns the median latency.
func lookupOverHTTP(ctx context.Context, url string, n int, next func() chain.Address) (time.Duration, error) {
	hc := newClient()
	defer hc.Close()
	lat := make([]time.Duration, n)
	for i := range lat {
		body, err := json.Marshal(map[string]chain.Address{"wallet": next()})
		if err != nil {
			return 0, err
		}
		t0 := time.Now()
		status, msg, err := hc.do(ctx, http.MethodGet, url+"/balance_for", body)
		lat[i] = time.Since(t0)
		if err != nil {
			return 0, err
		}
		if status != http.StatusOK {
			return 0, statusError("GET /balance_for", status, msg)
		}
	}
	slices.Sort(lat)
	return percentile(lat, 0.5), nil
}

// postResult is one load run's outcome.
type postResult struct {
	rate     float64 // tx/s until every mempool held every tx
	p50, p99 time.Duration
	complete bool
	missing  int
}

// postAll POSTs the bodies with b.sz.clients concurrent clients, body i
// to urls[i%len(urls)]+path, and waits until every node's mempool holds
// want more transactions than before.
func (b *runner) postAll(ctx context.Context, net *network, urls []string, path string, bodies [][]byte, wantStatus int) (postResult, error) {
	return b.postBatches(ctx, net, urls, path, bodies, 1, wantStatus)
}

// postBatches is postAll with the bodies (transactions) sent batch to a
// request, as a JSON array (POST /api/v1/txs's batch form) when batch >
// 1; a batch's answer must report every transaction accepted. Latencies
// are per request.
func (b *runner) postBatches(ctx context.Context, net *network, urls []string, path string, txBodies [][]byte, batch, wantStatus int) (postResult, error) {
	bodies := txBodies
	if batch > 1 {
		bodies = nil
		for c := range slices.Chunk(txBodies, batch) {
			bodies = append(bodies, append(append([]byte("["), bytes.Join(c, []byte(","))...), ']'))
		}
	}
	wantAll := []byte(`"rejected":0`)
	var base []int
	for _, c := range net.chains() {
		n, _ := c.MempoolStats()
		base = append(base, n)
	}
	lat := make([]time.Duration, len(bodies))
	var next, done atomic.Int64
	defer b.profile(strings.Trim(strings.ReplaceAll(path, "/", "-"), "-"))()
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for range b.sz.clients {
		g.Go(func() error {
			hc := newClient()
			defer hc.Close()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) || gctx.Err() != nil {
					return nil
				}
				t0 := time.Now()
				status, msg, err := hc.do(gctx, http.MethodPost, urls[i%len(urls)]+path, bodies[i])
				lat[i] = time.Since(t0)
				if err != nil {
					return err
				}
				if status != wantStatus || (batch > 1 && !bytes.Contains(msg, wantAll)) {
					return statusError("POST "+path, status, msg)
				}
				b.prog.tick("POST "+path, int(done.Add(1)), len(bodies))
			}
		})
	}
	if err := g.Wait(); err != nil {
		return postResult{}, err
	}
	missing := func() int {
		m := 0
		for i, c := range net.chains() {
			n, _ := c.MempoolStats()
			m += max(0, base[i]+len(txBodies)-n)
		}
		return m
	}
	complete := wait.For(ctx, 2*time.Minute, time.Millisecond, func() bool { return missing() == 0 })
	el := time.Since(start)
	slices.Sort(lat)
	return postResult{rate: float64(len(txBodies)) / el.Seconds(), p50: percentile(lat, 0.5), p99: percentile(lat, 0.99),
		complete: complete, missing: missing()}, nil
}

// fundedNet starts three nodes, mining off, with HTTP, and funds each key
// with a block reward mined into every node's chain. With dataDir, node 1
// keeps its data there (the others stay in memory: on one machine their
// disk writes would only compete with node 1's for the same cores and
// disk, which separate machines do not).
func (b *runner) fundedNet(ctx context.Context, keys []*rsa.PrivateKey, dataDir string) (*network, error) {
	g, err := benchGenesis(ctx, 8)
	if err != nil {
		return nil, err
	}
	cfgs := make([]services.Config, 3)
	cfgs[0].DataDir = dataDir
	net, err := startNet(ctx, g, cfgs, true)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if _, err := extend(ctx, net.chains(), chain.AddressOf(&k.PublicKey), nil); err != nil {
			net.Close()
			return nil, err
		}
	}
	return net, nil
}

func dropNote(net *network) string {
	var drops uint64
	for _, n := range net.cl.Nodes {
		for _, v := range n.Stats().NATSDrops {
			drops += v
		}
	}
	if drops == 0 {
		return ""
	}
	return fmt.Sprintf("; %d NATS messages dropped", drops)
}
