// Package config reads a node's configuration: PYCOTR_* variables
// (envconfig), overridden by flags, and validated so that each error names
// the variable at fault. Every error it returns is the user's to fix
// (cmd/pycotr exits 2); it starts nothing.
package config

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/pycotr/pycotr/events"
	"github.com/pycotr/pycotr/services/miner"
)

// EnvPrefix is the prefix of every configuration variable.
const EnvPrefix = "PYCOTR"

// Node is the configuration of `pycotr node`, read from PYCOTR_*
// variables (envconfig) and overridden by flags. The README's table lists
// the same variables; a test keeps them in step.
type Node struct {
	NodeName            string   `split_words:"true" default:"node-1" desc:"node name, shown to peers and in logs"`
	HTTPAddr            string   `split_words:"true" default:":3001" desc:"HTTP listen address"`
	PublicURL           string   `split_words:"true" desc:"URL peers and the frontend use for this node (default http://localhost:<port>)"`
	NatsURL             []string `split_words:"true" desc:"NATS server URLs, comma-separated, first preferred; empty = start an embedded server"`
	NATSListen          string   `split_words:"true" desc:"embedded server's client address, e.g. 127.0.0.1:4222; empty = in-process only"`
	NATSClusterListen   string   `split_words:"true" desc:"embedded server's route address, e.g. 127.0.0.1:6222; empty = no cluster"`
	NATSRoutes          []string `split_words:"true" desc:"embedded server's routes to other servers, nats-route://host:port, comma-separated"`
	NATSLeafnodeListen  string   `split_words:"true" desc:"embedded server's leaf-node address, e.g. 0.0.0.0:7422: other nodes' servers join it as leaf nodes (a hub)"`
	NATSLeafnodeRemotes []string `split_words:"true" desc:"hubs the embedded server joins as a leaf node, nats-leaf://[user:password@]host:port, comma-separated"`
	NATSServerToken     string   `split_words:"true" desc:"token the embedded server requires of its clients (needed beyond loopback)"`
	NATSServerUser      string   `split_words:"true" desc:"user the embedded server requires of its clients and routes, with PYCOTR_NATS_SERVER_PASSWORD"`
	NATSServerPassword  string   `split_words:"true" desc:"password of PYCOTR_NATS_SERVER_USER"`
	NATSClient
	SubjectPrefix  string   `split_words:"true" default:"pycotr" desc:"NATS subject prefix, so several networks can share one NATS"`
	MinerKey       string   `split_words:"true" desc:"miner private key, hex DER PKCS#1; empty = the development key of node-N"`
	MinerKeyFile   string   `split_words:"true" desc:"file holding the miner key (instead of PYCOTR_MINER_KEY)"`
	MinerPause     Seconds  `split_words:"true" default:"5" desc:"Seconds between blocks (paced) or their mean (poisson)"`
	MinerMode      string   `split_words:"true" default:"paced" desc:"paced, poisson or race"`
	MinerAutostart bool     `split_words:"true" default:"true" desc:"start mining at start-up"`
	MinerHashrate  float64  `split_words:"true" desc:"hash-rate limit in hashes/s (the race mode's power); 0 = no limit"`
	GenesisFile    string   `split_words:"true" desc:"genesis file; empty = the embedded default network"`
	DataDir        string   `split_words:"true" desc:"data directory; empty = in memory, as the original"`
	LogLevel       string   `split_words:"true" default:"info" desc:"debug, info, warn or error"`
	LogFormat      string   `split_words:"true" default:"text" desc:"text or json"`
	CORSOrigins    []string `split_words:"true" desc:"origins allowed to call the HTTP API, comma-separated (* = any); empty = this node's public URL and its peers'"`
	MaxBodyBytes   int64    `split_words:"true" default:"1048576" desc:"largest accepted HTTP request body"`
	// AdminToken has no flag: a flag's value shows in the process list.
	AdminToken      string `split_words:"true" desc:"bearer token the miner controls and key generation require; empty = open"`
	MaxEventStreams int    `split_words:"true" default:"256" desc:"most event streams (/api/v1/events) served at once"`
}

// NATSClient is what a node, or `pycotr status`, presents to an external
// NATS server: credentials and TLS (events.ClientAuth).
type NATSClient struct {
	NatsUser         string `split_words:"true" desc:"user for an external NATS server, with PYCOTR_NATS_PASSWORD"`
	NatsPassword     string `split_words:"true" desc:"password of PYCOTR_NATS_USER"`
	NatsToken        string `split_words:"true" desc:"token for an external NATS server"`
	NatsNkeySeedFile string `split_words:"true" desc:"NKey seed file for an external NATS server"`
	NatsCreds        string `split_words:"true" desc:"JWT credentials file (.creds) for an external NATS server"`
	NatsTLSCa        string `split_words:"true" desc:"PEM file of the CA that signed the NATS server's certificate"`
	NatsTLSCert      string `split_words:"true" desc:"PEM client certificate for mutual TLS, with PYCOTR_NATS_TLS_KEY"`
	NatsTLSKey       string `split_words:"true" desc:"PEM key of PYCOTR_NATS_TLS_CERT"`
}

// originalVariables maps the original Pycotr backend's variables to ours;
// each is read when ours is unset.
var originalVariables = map[string]string{
	"MINER_PAUSE":           "PYCOTR_MINER_PAUSE",
	"MINER_PRIVATE_KEY":     "PYCOTR_MINER_KEY",
	"BLCK_SRV_URL":          "PYCOTR_PUBLIC_URL",
	"MINER_NICK_NAME":       "PYCOTR_NODE_NAME",
	"GENESIS_FILE_LOCATION": "PYCOTR_GENESIS_FILE",
}

// Seconds is a duration written as seconds ("5", "1.5") or as a Go
// duration ("500ms").
type Seconds time.Duration

func (s *Seconds) Decode(v string) error { return s.Set(v) }

func (s *Seconds) Set(v string) error {
	v = strings.TrimSpace(v)
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > miner.MaxPause.Seconds() {
			return fmt.Errorf("%v Seconds is out of range 0..%v", f, miner.MaxPause.Seconds())
		}
		*s = Seconds(time.Duration(f * float64(time.Second)))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > miner.MaxPause {
		return fmt.Errorf("%q: want Seconds (5, 1.5) or a duration (500ms) up to 24h", v)
	}
	*s = Seconds(d)
	return nil
}

func (s *Seconds) String() string { return time.Duration(*s).String() }

// list is a comma-separated flag.
type list []string

func (l *list) Set(v string) error { *l = SplitList(v); return nil }
func (l *list) String() string     { return strings.Join(*l, ",") }

// SplitList splits a comma-separated list, dropping empty entries.
func SplitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// LoadNode reads the environment, then flags. Errors name the
// variable or flag at fault.
func LoadNode(args []string) (Node, error) {
	var c Node
	for orig, ours := range originalVariables {
		if v, ok := os.LookupEnv(orig); ok {
			if _, set := os.LookupEnv(ours); !set {
				os.Setenv(ours, v)
			}
		}
	}
	if err := envconfig.Process(EnvPrefix, &c); err != nil {
		var pe *envconfig.ParseError
		if errors.As(err, &pe) {
			return c, fmt.Errorf("bad %s=%q: %v", pe.KeyName, pe.Value, unwrapAll(pe.Err))
		}
		return c, err
	}
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	fs.StringVar(&c.NodeName, "name", c.NodeName, "node name (PYCOTR_NODE_NAME)")
	fs.StringVar(&c.HTTPAddr, "http-addr", c.HTTPAddr, "HTTP listen address (PYCOTR_HTTP_ADDR)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "public URL (PYCOTR_PUBLIC_URL)")
	fs.Var((*list)(&c.NatsURL), "nats-url", "NATS URLs, comma-separated (PYCOTR_NATS_URL)")
	fs.StringVar(&c.NATSListen, "nats-listen", c.NATSListen, "embedded NATS client address (PYCOTR_NATS_LISTEN)")
	fs.StringVar(&c.NATSClusterListen, "nats-cluster-listen", c.NATSClusterListen, "embedded NATS route address (PYCOTR_NATS_CLUSTER_LISTEN)")
	fs.Var((*list)(&c.NATSRoutes), "nats-routes", "embedded NATS routes (PYCOTR_NATS_ROUTES)")
	fs.StringVar(&c.NATSLeafnodeListen, "nats-leafnode-listen", c.NATSLeafnodeListen, "embedded NATS leaf-node address (PYCOTR_NATS_LEAFNODE_LISTEN)")
	fs.Var((*list)(&c.NATSLeafnodeRemotes), "nats-leafnode-remotes", "hubs to join as a leaf node (PYCOTR_NATS_LEAFNODE_REMOTES)")
	for _, f := range []struct {
		p          *string
		name, desc string
	}{
		{&c.NATSServerToken, "nats-server-token", "PYCOTR_NATS_SERVER_TOKEN"},
		{&c.NATSServerUser, "nats-server-user", "PYCOTR_NATS_SERVER_USER"},
		{&c.NATSServerPassword, "nats-server-password", "PYCOTR_NATS_SERVER_PASSWORD"},
		{&c.NatsUser, "nats-user", "PYCOTR_NATS_USER"}, {&c.NatsPassword, "nats-password", "PYCOTR_NATS_PASSWORD"},
		{&c.NatsToken, "nats-token", "PYCOTR_NATS_TOKEN"}, {&c.NatsNkeySeedFile, "nats-nkey-seed-file", "PYCOTR_NATS_NKEY_SEED_FILE"},
		{&c.NatsCreds, "nats-creds", "PYCOTR_NATS_CREDS"}, {&c.NatsTLSCa, "nats-tls-ca", "PYCOTR_NATS_TLS_CA"},
		{&c.NatsTLSCert, "nats-tls-cert", "PYCOTR_NATS_TLS_CERT"}, {&c.NatsTLSKey, "nats-tls-key", "PYCOTR_NATS_TLS_KEY"},
	} {
		fs.StringVar(f.p, f.name, *f.p, f.desc)
	}
	fs.StringVar(&c.SubjectPrefix, "subject-prefix", c.SubjectPrefix, "NATS subject prefix (PYCOTR_SUBJECT_PREFIX)")
	fs.StringVar(&c.MinerKeyFile, "miner-key-file", c.MinerKeyFile, "miner key file (PYCOTR_MINER_KEY_FILE)")
	fs.Var(&c.MinerPause, "pause", "miner pause in Seconds (PYCOTR_MINER_PAUSE)")
	fs.StringVar(&c.MinerMode, "mode", c.MinerMode, "miner mode: paced, poisson, race (PYCOTR_MINER_MODE)")
	fs.BoolVar(&c.MinerAutostart, "mine", c.MinerAutostart, "start mining at start-up (PYCOTR_MINER_AUTOSTART)")
	fs.Float64Var(&c.MinerHashrate, "hashrate", c.MinerHashrate, "hash-rate limit, hashes/s; 0 = none (PYCOTR_MINER_HASHRATE)")
	fs.StringVar(&c.GenesisFile, "genesis", c.GenesisFile, "genesis file (PYCOTR_GENESIS_FILE)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (PYCOTR_DATA_DIR)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "log level (PYCOTR_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: text or json (PYCOTR_LOG_FORMAT)")
	fs.Var((*list)(&c.CORSOrigins), "cors-origins", "allowed CORS origins (PYCOTR_CORS_ORIGINS)")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest request body (PYCOTR_MAX_BODY_BYTES)")
	fs.IntVar(&c.MaxEventStreams, "max-event-streams", c.MaxEventStreams, "most event streams at once (PYCOTR_MAX_EVENT_STREAMS)")
	fs.SetOutput(os.Stderr)
	fs.Usage = func() {
		fmt.Fprint(os.Stderr, "usage: pycotr node [flags]\n\nRun one node. It reads PYCOTR_* variables (README: Configuration); "+
			"each flag overrides the variable its help names.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return c, c.validate()
}

func unwrapAll(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// validate checks what the types cannot, naming the variable at fault.
func (c *Node) validate() error {
	if c.NodeName == "" || strings.ContainsAny(c.NodeName, " \t\r\n") {
		return fmt.Errorf("bad PYCOTR_NODE_NAME=%q: want a name without spaces", c.NodeName)
	}
	host, port, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return fmt.Errorf("bad PYCOTR_HTTP_ADDR=%q: want host:port, e.g. :3001", c.HTTPAddr)
	}
	if c.PublicURL == "" {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("bad PYCOTR_PUBLIC_URL=%q: want http(s)://host:port", c.PublicURL)
	}
	for _, s := range c.NatsURL {
		if u, err := url.Parse(s); err != nil || u.Host == "" {
			return fmt.Errorf("bad PYCOTR_NATS_URL entry %q: want nats://host:port", s)
		}
	}
	if len(c.NatsURL) > 0 && (c.NATSListen != "" || c.NATSClusterListen != "" || c.NATSServerToken != "" || c.NATSServerUser != "" ||
		c.NATSLeafnodeListen != "" || len(c.NATSLeafnodeRemotes) > 0) {
		return fmt.Errorf("PYCOTR_NATS_LISTEN, PYCOTR_NATS_CLUSTER_LISTEN, PYCOTR_NATS_LEAFNODE_* and PYCOTR_NATS_SERVER_* configure the embedded server; leave PYCOTR_NATS_URL empty to use it")
	}
	if err := c.Auth().Check(); err != nil {
		return err
	}
	if len(c.NatsURL) == 0 && c.Auth() != (events.ClientAuth{}) {
		return fmt.Errorf("PYCOTR_NATS_USER, _TOKEN, _NKEY_SEED_FILE, _CREDS and _TLS_* are for an external server (PYCOTR_NATS_URL); the embedded one takes PYCOTR_NATS_SERVER_*")
	}
	if c.NATSListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSListen); err != nil {
			return fmt.Errorf("bad PYCOTR_NATS_LISTEN=%q: want host:port", c.NATSListen)
		}
	}
	if c.NATSClusterListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSClusterListen); err != nil {
			return fmt.Errorf("bad PYCOTR_NATS_CLUSTER_LISTEN=%q: want host:port", c.NATSClusterListen)
		}
	}
	if c.NATSLeafnodeListen != "" {
		if _, _, err := net.SplitHostPort(c.NATSLeafnodeListen); err != nil {
			return fmt.Errorf("bad PYCOTR_NATS_LEAFNODE_LISTEN=%q: want host:port", c.NATSLeafnodeListen)
		}
	}
	for _, r := range c.NATSLeafnodeRemotes {
		if u, err := url.Parse(r); err != nil || u.Host == "" || (u.Scheme != "nats-leaf" && u.Scheme != "nats" && u.Scheme != "tls") {
			return fmt.Errorf("bad PYCOTR_NATS_LEAFNODE_REMOTES entry: want nats-leaf://[user:password@]host:port")
		}
	}
	if len(c.NATSRoutes) > 0 && c.NATSClusterListen == "" {
		return fmt.Errorf("PYCOTR_NATS_ROUTES needs PYCOTR_NATS_CLUSTER_LISTEN")
	}
	if _, err := miner.ParseMode(c.MinerMode); err != nil {
		return fmt.Errorf("bad PYCOTR_MINER_MODE=%q: want paced, poisson or race", c.MinerMode)
	}
	if !(c.MinerHashrate >= 0 && c.MinerHashrate <= miner.MaxHashRate) {
		return fmt.Errorf("bad PYCOTR_MINER_HASHRATE=%g: want 0 (no limit) to %g hashes/s", c.MinerHashrate, miner.MaxHashRate)
	}
	if c.MinerKey != "" && c.MinerKeyFile != "" {
		return fmt.Errorf("set PYCOTR_MINER_KEY or PYCOTR_MINER_KEY_FILE, not both")
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		return fmt.Errorf("bad PYCOTR_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("bad PYCOTR_LOG_FORMAT=%q: want text or json", c.LogFormat)
	}
	if c.MaxBodyBytes < 1024 {
		return fmt.Errorf("bad PYCOTR_MAX_BODY_BYTES=%d: want at least 1024", c.MaxBodyBytes)
	}
	if c.MaxEventStreams < 1 {
		return fmt.Errorf("bad PYCOTR_MAX_EVENT_STREAMS=%d: want at least 1", c.MaxEventStreams)
	}
	if strings.IndexFunc(c.AdminToken, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		// never echo the token itself
		return fmt.Errorf("bad PYCOTR_ADMIN_TOKEN: want printable ASCII without spaces (it travels as \"Authorization: Bearer <token>\")")
	}
	return nil
}

// Auth is what the node presents to an external NATS server.
func (c *NATSClient) Auth() events.ClientAuth {
	return events.ClientAuth{User: c.NatsUser, Password: c.NatsPassword, Token: c.NatsToken,
		NKeySeedFile: c.NatsNkeySeedFile, CredsFile: c.NatsCreds, TLSCA: c.NatsTLSCa, TLSCert: c.NatsTLSCert, TLSKey: c.NatsTLSKey}
}

// Refused names the setting a NATS server refused (events.ErrAuth,
// events.ErrTLS), for the one line a bad credential prints; nil for any
// other error.
func (c *NATSClient) Refused(err error) error {
	switch {
	case errors.Is(err, events.ErrAuth):
		return fmt.Errorf("bad %s: %w", cmp.Or(c.Auth().Setting(), "NATS credentials (none set)"), err)
	case errors.Is(err, events.ErrTLS):
		return fmt.Errorf("bad PYCOTR_NATS_TLS_CA, PYCOTR_NATS_TLS_CERT or PYCOTR_NATS_TLS_KEY: %w", err)
	}
	return nil
}

// ParseLevel reads a log level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(s))
	return l, err
}

// NewLogger builds the process logger.
func NewLogger(level, format string, w *os.File) *slog.Logger {
	l, _ := ParseLevel(level)
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
