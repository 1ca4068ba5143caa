package httpapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// runServer runs a Server until the returned cancel; done yields Run's
// error.
func runServer(t *testing.T, cfg ServerConfig) (s *Server, cancel context.CancelFunc, done <-chan error) {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	s = NewServer(cfg)
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc, finished := make(chan error, 1), make(chan struct{})
	go func() { errc <- s.Run(ctx); close(finished) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(15 * time.Second):
			t.Error("server did not stop")
		}
	})
	return s, cancel, errc
}

// TestServerDrainsInFlight: when the context ends, a request in flight
// finishes and is answered before Run returns.
func TestServerDrainsInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		_, _ = io.WriteString(w, "done")
	})
	s, cancel, done := runServer(t, ServerConfig{Handler: h})
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + s.Addr() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		got <- result{string(b), err}
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond): // still draining, as it should
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "done" {
		t.Fatalf("in-flight request: %q, %v", r.body, r.err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the drain")
	}
}

// TestServerStreamOutlivesTimeouts: the event stream lives past the
// server's read and write timeouts, and ends when the server shuts down.
func TestServerStreamOutlivesTimeouts(t *testing.T) {
	n := startNode(t, startServer(t), 0)
	h := New(func() Config { c := nodeConfig(n); c.Heartbeat = 50 * time.Millisecond; return c }())
	s, cancel, done := runServer(t, ServerConfig{Handler: h, ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond})

	res, err := http.Get("http://" + s.Addr() + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// Heartbeats keep coming for 5 times the timeouts.
	sc := bufio.NewScanner(res.Body)
	start := time.Now()
	for time.Since(start) < time.Second {
		if !sc.Scan() {
			t.Fatalf("stream ended after %s: %v", time.Since(start), sc.Err())
		}
	}
	// An ordinary request still works beside it.
	if r, err := http.Get("http://" + s.Addr() + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz beside a stream: %v", err)
	} else {
		r.Body.Close()
	}
	cancel()
	stopped := time.Now()
	for sc.Scan() {
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "closed") {
		t.Logf("stream end: %v", err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("shutdown waited on the event stream")
	}
	if d := time.Since(stopped); d > 2*time.Second {
		t.Errorf("shutdown took %s with a stream open", d)
	}
}
