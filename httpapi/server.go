package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// ServerConfig configures the HTTP server; zero durations take the
// defaults below.
type ServerConfig struct {
	Addr    string // host:port; port 0 picks a free one (see Server.Addr)
	Handler http.Handler
	Logger  *slog.Logger

	ReadHeaderTimeout time.Duration // default 5 s
	ReadTimeout       time.Duration // whole request, body included; default 30 s
	WriteTimeout      time.Duration // default 30 s; event streams extend their own deadlines
	IdleTimeout       time.Duration // keep-alive; default 120 s
	ShutdownTimeout   time.Duration // drain time for in-flight requests; default 10 s
}

// Server is an HTTP server with timeouts set and a graceful shutdown.
type Server struct {
	cfg  ServerConfig
	srv  *http.Server
	log  *slog.Logger
	mu   sync.Mutex
	ln   net.Listener
	stop chan struct{} // closed when shutdown begins: event streams end
}

// NewServer returns a server for cfg; call Listen (optional) and Run.
func NewServer(cfg ServerConfig) *Server {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.ReadHeaderTimeout, 5*time.Second)
	def(&cfg.ReadTimeout, 30*time.Second)
	def(&cfg.WriteTimeout, 30*time.Second)
	def(&cfg.IdleTimeout, 120*time.Second)
	def(&cfg.ShutdownTimeout, 10*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, stop: make(chan struct{})}
	var stopOnce sync.Once
	s.srv = &http.Server{
		Handler:           cfg.Handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context {
			return withStreamStop(context.Background(), s.stop)
		},
	}
	s.srv.RegisterOnShutdown(func() { stopOnce.Do(func() { close(s.stop) }) })
	return s
}

// Listen binds the address, so that Addr is known before Run.
func (s *Server) Listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", s.cfg.Addr, err)
	}
	s.ln = ln
	return nil
}

// SetHandler sets the handler; call it before Run (a server may be bound
// with Listen before the node it serves exists).
func (s *Server) SetHandler(h http.Handler) { s.srv.Handler = h }

// Addr is the bound address (after Listen or Run).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully: it stops
// accepting, ends event streams, and waits up to ShutdownTimeout for
// in-flight requests to finish before closing what remains.
func (s *Server) Run(ctx context.Context) error {
	if err := s.Listen(); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	s.log.Info("http listening", "addr", s.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("http serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("http shutdown: %w", err), s.srv.Close())
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	s.log.Info("http stopped", "addr", s.Addr())
	return err
}

// Serve serves h on addr until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, addr string, h http.Handler) error {
	return NewServer(ServerConfig{Addr: addr, Handler: h}).Run(ctx)
}
