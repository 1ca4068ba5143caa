package main

import (
	"github.com/pycotr/pycotr/internal/config"

	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pycotr/pycotr/genesis"
	"github.com/pycotr/pycotr/services/miner"
)

func parseUpFlags(args []string) (upConfig, error) {
	uc := upConfig{}
	fs := newFlagSet("up", os.Stderr)
	fs.IntVar(&uc.nodes, "nodes", 3, "number of nodes")
	pauses := fs.String("pause", "5,10,15", "miner pauses in seconds, comma-separated, one per node (repeated if fewer)")
	fs.IntVar(&uc.basePort, "base-port", 3001, "HTTP port of node-1; node-N gets base-port+N-1")
	fs.StringVar(&uc.host, "host", "127.0.0.1", "HTTP listen host")
	fs.StringVar(&uc.natsListen, "nats-listen", "127.0.0.1:4222", "embedded NATS client address (empty = in-process only)")
	fs.StringVar(&uc.mode, "mode", "paced", "miner mode: paced, poisson or race")
	hashrates := fs.String("hashrate", "0", "hash-rate limits in hashes/s, comma-separated, one per node; 0 = none (e.g. --mode race --hashrate 20000,40000,60000)")
	genesisName := fs.String("genesis", "", "genesis file or profile (default, retarget); empty = default")
	fs.StringVar(&uc.logLevel, "log-level", "info", "log level")
	fs.StringVar(&uc.logFormat, "log-format", "text", "log format: text or json")
	if err := fs.Parse(args); err != nil {
		return uc, usagef("%w", err)
	}
	if uc.nodes < 1 || uc.nodes > 32 {
		return uc, usagef("bad --nodes=%d: want 1 to 32", uc.nodes)
	}
	if uc.basePort < 1 || uc.basePort+uc.nodes > 65535 {
		return uc, usagef("bad --base-port=%d", uc.basePort)
	}
	for _, p := range strings.Split(*pauses, ",") {
		var s config.Seconds
		if err := s.Set(p); err != nil {
			return uc, usagef("bad --pause: %v", err)
		}
		uc.pauses = append(uc.pauses, time.Duration(s))
	}
	for _, h := range strings.Split(*hashrates, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(h), 64)
		if err != nil || !(r >= 0 && r <= miner.MaxHashRate) {
			return uc, usagef("bad --hashrate %q: want hashes/s, 0 for no limit", h)
		}
		uc.hashrates = append(uc.hashrates, r)
	}
	g, err := genesis.Load(*genesisName)
	if err != nil {
		return uc, usagef("bad --genesis: %v", err)
	}
	uc.genesis = g
	if _, err := config.ParseLevel(uc.logLevel); err != nil {
		return uc, usagef("bad --log-level=%q", uc.logLevel)
	}
	if uc.logFormat != "text" && uc.logFormat != "json" {
		return uc, usagef("bad --log-format=%q: want text or json", uc.logFormat)
	}
	return uc, nil
}
