package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// client is one load-generator client: a keep-alive HTTP/1.1
// connection per server, each request written and its response read on the
// caller's goroutine with net/http's own Request.Write and ReadResponse.
//
// It is not an http.Client because that one's Transport runs a reader and
// a writer goroutine per connection and hands every request and response
// between them and the caller: in the compat run that was 2.6 % of the
// CPU, which the load generator takes from the nodes it measures (they
// share the machine's cores). A client on another machine would take none.
//
// A client belongs to one goroutine (it is not safe for concurrent
// use), and unlike http.Transport it does not retry a request that a
// reused connection fails: the benchmark counts that as an error.
type client struct {
	conns map[string]*clientConn // by host:port
}

type clientConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newClient() *client { return &client{conns: map[string]*clientConn{}} }

// do sends method url with body (JSON) and returns the response's status
// and body.
func (bc *client) do(ctx context.Context, method, url string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	c, err := bc.conn(req.URL.Host)
	if err != nil {
		return 0, nil, err
	}
	status, msg, keep, err := c.roundTrip(ctx, req)
	if !keep || err != nil {
		bc.drop(req.URL.Host)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	return status, msg, nil
}

func (bc *client) conn(host string) (*clientConn, error) {
	if c := bc.conns[host]; c != nil {
		return c, nil
	}
	nc, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c := &clientConn{c: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}
	bc.conns[host] = c
	return c, nil
}

func (bc *client) drop(host string) {
	if c := bc.conns[host]; c != nil {
		c.c.Close()
		delete(bc.conns, host)
	}
}

// Close closes every connection.
func (bc *client) Close() {
	for host := range bc.conns {
		bc.drop(host)
	}
}

// roundTrip sends req and reads its response; keep is whether the
// connection can carry the next request.
// A cancelled ctx ends a request in flight.
func (c *clientConn) roundTrip(ctx context.Context, req *http.Request) (status int, msg []byte, keep bool, err error) {
	if err := c.c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		return 0, nil, false, err
	}
	stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() && ctx.Err() != nil {
			status, msg, keep, err = 0, nil, false, ctx.Err()
		}
	}()
	if err := req.Write(c.bw); err != nil {
		return 0, nil, false, err
	}
	if err := c.bw.Flush(); err != nil {
		return 0, nil, false, err
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		return 0, nil, false, err
	}
	msg, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, nil, false, err
	}
	return resp.StatusCode, msg, !resp.Close, nil
}

// statusError describes an unexpected answer.
func statusError(what string, status int, msg []byte) error {
	return fmt.Errorf("%s: %d %s: %s", what, status, http.StatusText(status), strings.TrimSpace(string(msg)))
}
