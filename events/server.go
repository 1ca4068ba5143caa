package events

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig configures an embedded NATS server.
type ServerConfig struct {
	Name          string   // server name, for monitoring and routes
	Listen        string   // client address "host:port"; "" = in-process only, no port
	ClusterName   string   // cluster name when routes are used; default "pycotr"
	ClusterListen string   // route listen address "host:port"; "" = no cluster
	Routes        []string // nats-route://host:port of the other servers
	// NoAdvertise keeps the server from telling its clients the client
	// URLs of the other servers of its cluster (nats.go would otherwise
	// fail over to them on its own).
	NoAdvertise  bool
	MaxPayload   int32 // default 8 MiB, room for a full block page
	ReadyTimeout time.Duration

	// Clients must present Token, or User and Password (not both kinds).
	// A server whose Listen address reaches beyond this machine must
	// require one. With User and Password, routes between the servers of
	// a cluster use them too (each route URL gets them unless it has its
	// own), so every server of one network shares them.
	Token    string
	User     string
	Password string

	// Leaf nodes, NATS's topology for joining a hub with one outbound
	// connection: LeafListen accepts leaf connections ("host:port"; with
	// User and Password they must present them, and beyond loopback they
	// must be set); LeafRemotes are hubs this server joins as a leaf
	// (nats-leaf://[user:password@]host:port each). A leaf server carries
	// every subject of its hub, so a node on it is part of the hub's network.
	LeafListen  string
	LeafRemotes []string
}

// DefaultMaxPayload is the embedded server's max payload: a full block
// or sync page with room to spare.
const DefaultMaxPayload = 8 << 20

// Server is an embedded, in-process NATS server.
type Server struct {
	srv  *server.Server
	auth ClientAuth // what its own in-process clients present
	mu   sync.Mutex
	opts *server.Options // as started, for reloads
}

// StartServer starts an embedded NATS server and waits until it accepts
// connections.
func StartServer(cfg ServerConfig) (*Server, error) {
	opts := &server.Options{
		ServerName: cfg.Name,
		MaxPayload: cfg.MaxPayload,
		NoSigs:     true,
		NoLog:      true,
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	// The server refuses a max payload above max pending.
	opts.MaxPending = int64(opts.MaxPayload) * 8
	if err := cfg.checkAuth(); err != nil {
		return nil, err
	}
	opts.Authorization, opts.Username, opts.Password = cfg.Token, cfg.User, cfg.Password
	if cfg.Listen == "" {
		opts.DontListen = true
	} else {
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("nats listen address: %w", err)
		}
		if !isLoopback(host) && cfg.Token == "" && cfg.User == "" {
			return nil, fmt.Errorf("nats listen address %s reaches beyond this machine: "+
				"require a token or a user and password of its clients (PYCOTR_NATS_SERVER_TOKEN, PYCOTR_NATS_SERVER_USER)", cfg.Listen)
		}
		opts.Host, opts.Port = host, port
	}
	if cfg.ClusterListen != "" {
		if cfg.Listen == "" {
			// nats-server's route start waits for the client listener: an
			// in-process-only server with routes never becomes ready.
			return nil, errors.New("nats cluster listen address needs a client listen address")
		}
		host, port, err := splitHostPort(cfg.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("nats cluster listen address: %w", err)
		}
		opts.Cluster.Name = cfg.ClusterName
		if opts.Cluster.Name == "" {
			opts.Cluster.Name = "pycotr"
		}
		opts.Cluster.Host, opts.Cluster.Port = host, port
		opts.Cluster.NoAdvertise = cfg.NoAdvertise
		opts.Cluster.Username, opts.Cluster.Password = cfg.User, cfg.Password
		for _, r := range cfg.Routes {
			u, err := url.Parse(r)
			if err != nil || u.Host == "" {
				return nil, fmt.Errorf("nats route %q: want nats-route://host:port", r)
			}
			if u.User == nil && cfg.User != "" {
				u.User = url.UserPassword(cfg.User, cfg.Password)
			}
			opts.Routes = append(opts.Routes, u)
		}
	} else if len(cfg.Routes) > 0 {
		return nil, errors.New("nats routes need a cluster listen address")
	}
	if err := cfg.leafOptions(opts); err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	srv.Start()
	timeout := cfg.ReadyTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if !srv.ReadyForConnections(timeout) {
		srv.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after %s (is %s already in use?)", timeout, cfg.Listen)
	}
	auth := ClientAuth{Token: cfg.Token, User: cfg.User, Password: cfg.Password}
	return &Server{srv: srv, auth: auth, opts: opts.Clone()}, nil
}

// leafOptions sets the leaf-node listener and remotes.
func (c ServerConfig) leafOptions(opts *server.Options) error {
	if c.LeafListen != "" {
		host, port, err := splitHostPort(c.LeafListen)
		if err != nil {
			return fmt.Errorf("nats leaf node listen address: %w", err)
		}
		if !isLoopback(host) && c.User == "" {
			return fmt.Errorf("nats leaf node listen address %s reaches beyond this machine: "+
				"require a user and password of the leaf nodes (PYCOTR_NATS_SERVER_USER, PYCOTR_NATS_SERVER_PASSWORD)", c.LeafListen)
		}
		opts.LeafNode.Host, opts.LeafNode.Port = host, port
		opts.LeafNode.Username, opts.LeafNode.Password = c.User, c.Password
	}
	for _, r := range c.LeafRemotes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" || (u.Scheme != "nats-leaf" && u.Scheme != "nats" && u.Scheme != "tls") {
			return fmt.Errorf("nats leaf node remote %q: want nats-leaf://[user:password@]host:port", redact(r))
		}
		opts.LeafNode.Remotes = append(opts.LeafNode.Remotes, &server.RemoteLeafOpts{URLs: []*url.URL{u}})
	}
	if len(c.LeafRemotes) > 0 {
		opts.LeafNode.ReconnectInterval = time.Second
	}
	return nil
}

func (c ServerConfig) checkAuth() error {
	switch {
	case c.Token != "" && c.User != "":
		return errors.New("embedded nats: require a token or a user and password, not both")
	case (c.User == "") != (c.Password == ""):
		return errors.New("embedded nats: a server user needs a password, and a password a user")
	}
	return nil
}

// isLoopback reports whether a listen host is reachable from this machine
// only.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ClientAuth is what a client of this server presents: its token, or its
// user and password (nothing when it requires none).
func (s *Server) clientAuth() ClientAuth { return s.auth }

// AddRoutes joins the server, at run time, to other servers of its cluster
// (nats-route://host:port each), by a configuration reload: a partition
// that heals, or a server added to a running network. The server must have
// been started with a ClusterListen address.
func (s *Server) AddRoutes(routes ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.ClusterAddr() == nil {
		return errors.New("nats routes need a cluster listen address")
	}
	opts := s.opts.Clone()
	for _, r := range routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return fmt.Errorf("nats route %q: want nats-route://host:port", r)
		}
		if u.User == nil && s.auth.User != "" {
			u.User = url.UserPassword(s.auth.User, s.auth.Password)
		}
		opts.Routes = append(opts.Routes, u)
	}
	next := opts.Clone() // ReloadOptions takes ownership of its argument
	if err := s.srv.ReloadOptions(opts); err != nil {
		return fmt.Errorf("nats add routes: %w", err)
	}
	s.opts = next
	return nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	if port == 0 {
		port = -1 // nats-server: -1 picks a random port
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// ClientURL is the URL clients use, or "" for an in-process-only server.
func (s *Server) ClientURL() string {
	if s.srv.Addr() == nil {
		return ""
	}
	return s.srv.ClientURL()
}

// RouteURL is the nats-route:// URL other servers route to, or "".
func (s *Server) RouteURL() string {
	a := s.srv.ClusterAddr()
	if a == nil {
		return ""
	}
	return "nats-route://" + a.String()
}

// LeafURL is the nats-leaf:// URL leaf servers join, or "" without a
// leaf-node listener.
func (s *Server) LeafURL() string {
	v, err := s.srv.Varz(nil)
	if err != nil || v.LeafNode.Port == 0 {
		return ""
	}
	host := v.LeafNode.Host
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "nats-leaf://" + net.JoinHostPort(host, strconv.Itoa(v.LeafNode.Port))
}

// NumLeafNodes is the number of leaf-node connections (either way).
func (s *Server) NumLeafNodes() int { return s.srv.NumLeafNodes() }

// NumRoutes is the number of routes to other servers.
func (s *Server) NumRoutes() int { return s.srv.NumRoutes() }

// NumClients is the number of client connections to the server.
func (s *Server) NumClients() int { return s.srv.NumClients() }

// Shutdown stops the server and waits for it.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// nats.InProcessServer needs this.
func (s *Server) inProcess() *server.Server { return s.srv }
