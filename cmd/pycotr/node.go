package main

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/httpapi"
	"github.com/pycotr/pycotr/internal/config"
	"github.com/pycotr/pycotr/services"
	"github.com/pycotr/pycotr/services/miner"
)

// runNode runs one node and its HTTP server until a signal.
func runNode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := loadNodeConfig(args)
	if err != nil {
		return err
	}
	log := config.NewLogger(cfg.LogLevel, cfg.LogFormat, os.Stderr)
	key, err := minerKey(cfg, log)
	if err != nil {
		return err
	}
	g, err := genesis.Load(cfg.GenesisFile)
	if err != nil {
		return usagef("bad PYCOTR_GENESIS_FILE: %v", err)
	}
	mode, _ := miner.ParseMode(cfg.MinerMode)

	var srv *events.Server
	if len(cfg.NatsURL) == 0 {
		srv, err = events.StartServer(events.ServerConfig{
			Name: cfg.NodeName, Listen: cfg.NATSListen,
			ClusterListen: cfg.NATSClusterListen, Routes: cfg.NATSRoutes,
			Token: cfg.NATSServerToken, User: cfg.NATSServerUser, Password: cfg.NATSServerPassword,
			LeafListen: cfg.NATSLeafnodeListen, LeafRemotes: cfg.NATSLeafnodeRemotes,
		})
		if err != nil {
			return err
		}
		defer srv.Shutdown()
		log.Info("embedded NATS started", "url", srv.ClientURL(), "routes", cfg.NATSRoutes)
	}
	hs := httpapi.NewServer(httpapi.ServerConfig{Addr: cfg.HTTPAddr, Logger: log, ShutdownTimeout: shutdownTimeout})
	if err := hs.Listen(); err != nil { // fail before anything starts if the port is taken
		return err
	}
	node, err := services.New(services.Config{
		Name: cfg.NodeName, PublicURL: cfg.PublicURL, MinerKey: key, Genesis: g, DataDir: cfg.DataDir,
		Miner: miner.Settings{Mode: mode, Pause: time.Duration(cfg.MinerPause), Autostart: cfg.MinerAutostart,
			HashRate: cfg.MinerHashrate},
		NATSServers: cfg.NatsURL, NATSAuth: cfg.Auth(), Embedded: srv, Prefix: cfg.SubjectPrefix, Logger: log,
	})
	if err != nil {
		return err
	}
	if err := node.Start(ctx); err != nil {
		if refused := cfg.Refused(err); refused != nil {
			return usagef("%v", refused)
		}
		return err
	}
	defer node.Close()
	hs.SetHandler(httpapi.New(httpapi.Config{Node: node, Chain: node.Chain(), Miner: node.Miner(), Peers: node.Peers(), Logger: log,
		MaxBodyBytes: cfg.MaxBodyBytes, CORSOrigins: cfg.CORSOrigins, DevKeys: true,
		AdminToken: cfg.AdminToken, MaxEventStreams: cfg.MaxEventStreams}))
	err = hs.Run(ctx)
	log.Info("shutting down")
	return err
}

// loadNodeConfig reads the node's configuration; every error in it is the
// user's to fix (exit 2).
func loadNodeConfig(args []string) (config.Node, error) {
	cfg, err := config.LoadNode(args)
	if err != nil {
		return cfg, usagef("%w", err)
	}
	return cfg, nil
}

// shutdownTimeout bounds the drain of in-flight HTTP requests at exit, so
// Ctrl-C stops a node within 2 s.
const shutdownTimeout = 1500 * time.Millisecond

// nodeNumber reads N from a name like node-N.
var nodeNumber = regexp.MustCompile(`^node-(\d+)$`)

// minerKey loads the configured key, or the development key of node-N, or
// makes a throw-away key. It never logs the key itself.
func minerKey(cfg config.Node, log *slog.Logger) (*rsa.PrivateKey, error) {
	switch {
	case cfg.MinerKey != "":
		k, err := chain.ParsePrivateKey(cfg.MinerKey)
		if err != nil {
			return nil, usagef("bad PYCOTR_MINER_KEY: %v", err)
		}
		return k, nil
	case cfg.MinerKeyFile != "":
		data, err := os.ReadFile(cfg.MinerKeyFile)
		if err != nil {
			return nil, usagef("bad PYCOTR_MINER_KEY_FILE: %v", err)
		}
		k, err := chain.ParsePrivateKey(strings.TrimSpace(string(data)))
		if err != nil {
			return nil, usagef("bad PYCOTR_MINER_KEY_FILE %s: %v", cfg.MinerKeyFile, err)
		}
		return k, nil
	}
	if m := nodeNumber.FindStringSubmatch(cfg.NodeName); m != nil {
		n, _ := strconv.Atoi(m[1])
		k, ok, err := developmentKey(n)
		if err != nil {
			return nil, err
		}
		if ok {
			log.Warn("using the published development miner key; set PYCOTR_MINER_KEY for a key of your own", "node", cfg.NodeName)
			return k, nil
		}
	}
	log.Warn("no miner key configured: made a throw-away key for this run", "node", cfg.NodeName)
	return chain.GenerateKey()
}

// upConfig is `pycotr up`'s flags.
type upConfig struct {
	nodes      int
	pauses     []time.Duration
	basePort   int
	host       string
	natsListen string
	mode       string
	logLevel   string
	logFormat  string
	hashrates  []float64
	genesis    *genesis.File
}

// runUp runs the local network: embedded NATS and N nodes in one process.
func runUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	uc, err := parseUpFlags(args)
	if err != nil {
		return err
	}
	log := config.NewLogger(uc.logLevel, uc.logFormat, os.Stderr)
	mode, err := miner.ParseMode(uc.mode)
	if err != nil {
		return usagef("%v", err)
	}
	var nodes []services.Config
	for i := 1; i <= uc.nodes; i++ {
		key, ok, err := developmentKey(i)
		if err != nil {
			return err
		}
		if !ok {
			if key, err = chain.GenerateKey(); err != nil {
				return err
			}
		}
		nodes = append(nodes, services.Config{
			Name:      fmt.Sprintf("node-%d", i),
			PublicURL: fmt.Sprintf("http://localhost:%d", uc.basePort+i-1),
			MinerKey:  key,
			Miner: miner.Settings{Mode: mode, Pause: uc.pauses[(i-1)%len(uc.pauses)], Autostart: true,
				HashRate: uc.hashrates[(i-1)%len(uc.hashrates)]},
			Genesis: uc.genesis,
			Logger:  log,
		})
	}
	cl, err := services.StartCluster(ctx, services.ClusterConfig{
		NATS:  events.ServerConfig{Name: "pycotr-up", Listen: uc.natsListen},
		Nodes: nodes,
	})
	if err != nil {
		return err
	}
	defer cl.Close()
	g, gctx := errgroup.WithContext(ctx)
	// No CORSOrigins: each node lets in its own URL and its peers' (the
	// dashboard of one calls the others); no admin token on a local network.
	for i, n := range cl.Nodes {
		hs := httpapi.NewServer(httpapi.ServerConfig{
			Addr:    fmt.Sprintf("%s:%d", uc.host, uc.basePort+i),
			Handler: httpapi.New(httpapi.Config{Node: n, Chain: n.Chain(), Miner: n.Miner(), Peers: n.Peers(), Logger: log, MaxBodyBytes: 1 << 20, DevKeys: true}),
			Logger:  log, ShutdownTimeout: shutdownTimeout,
		})
		if err := hs.Listen(); err != nil {
			return err
		}
		g.Go(func() error { return hs.Run(gctx) })
	}
	fmt.Fprintf(stdout, "Pycotr network up: NATS %s\n", orDefault(cl.Server.ClientURL(), "in-process"))
	for i, n := range cl.Nodes {
		fmt.Fprintf(stdout, "  %s  http://localhost:%d  pause %s\n", n.Name(), uc.basePort+i, nodes[i].Miner.Pause)
	}
	fmt.Fprintln(stdout, "Ctrl-C stops it.")
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
