package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
)

// The benchmark's client reuses its connection, follows a server that
// closes it (Connection: close) by dialling again, and returns each
// answer's status and body.
func TestBenchClient(t *testing.T) {
	var conns, reqs atomic.Int64
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" { // flushed before the end: sent chunked
			w.Write([]byte("first,"))
			w.(http.Flusher).Flush()
			w.Write([]byte("second"))
			return
		}
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
			return
		}
		n := reqs.Add(1)
		body, _ := io.ReadAll(r.Body)
		if n%3 == 0 {
			w.Header().Set("Connection", "close")
		}
		if string(body) == "bad" {
			http.Error(w, "refused", http.StatusBadRequest)
			return
		}
		w.Write(append([]byte(r.Method+" "), body...))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	defer close(release)
	c := newClient()
	defer c.Close()
	ctx := context.Background()
	for i := range 9 {
		want := strconv.Itoa(i)
		status, body, err := c.do(ctx, http.MethodPost, srv.URL+"/x", []byte(want))
		if err != nil || status != http.StatusOK || string(body) != "POST "+want {
			t.Fatalf("request %d: %d %q %v", i, status, body, err)
		}
	}
	status, body, err := c.do(ctx, http.MethodGet, srv.URL+"/x", []byte("bad"))
	if err != nil || status != http.StatusBadRequest || string(body) != "refused\n" {
		t.Fatalf("refused request: %d %q %v", status, body, err)
	}
	// A chunked answer is read whole, and the connection stays open.
	status, body, err = c.do(ctx, http.MethodGet, srv.URL+"/chunked", nil)
	if err != nil || status != http.StatusOK || string(body) != "first,second" {
		t.Fatalf("chunked answer: %d %q %v", status, body, err)
	}
	// Every third answer closed its connection: 11 requests, 4 connections.
	if n := conns.Load(); n != 4 {
		t.Fatalf("%d connections for 11 requests, want 4 (reused, and redialled after each close)", n)
	}

	// A cancelled context ends a request the server has not answered.
	cctx, cancel := context.WithCancel(ctx)
	go func() { <-arrived; cancel() }()
	if _, _, err := c.do(cctx, http.MethodPost, srv.URL+"/slow", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v, want context.Canceled", err)
	}
	// and the client goes on, on a new connection.
	if status, _, err := c.do(ctx, http.MethodPost, srv.URL+"/x", []byte("after")); err != nil || status != http.StatusOK {
		t.Fatalf("after the cancelled request: %d %v", status, err)
	}
}
