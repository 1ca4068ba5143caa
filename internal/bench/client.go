package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// client is one load-generator client: a keep-alive HTTP/1.1
// connection per server, each request written and its response read on the
// caller's goroutine.
//
// It is not an http.Client because that one's Transport runs a reader and
// a writer goroutine per connection and hands every request and response
// between them and the caller, and it is not http.Request.Write with
// http.ReadResponse either: both build header maps and a request object
// for every call. The load generator shares the machine's cores with the
// nodes it measures, so what it spends is taken from them (a client on
// another machine would take none): in the intake run those two cost
// about 15 µs a request, a tenth of the CPU. This one writes the request
// line, three headers and the body into the connection's buffer, and
// reads the answer's status line and the headers it needs
// (Content-Length, Transfer-Encoding, Connection), as load generators
// such as wrk do.
//
// A client belongs to one goroutine (it is not safe for concurrent
// use), and unlike http.Transport it does not retry a request that a
// reused connection fails: the benchmark counts that as an error.
type client struct {
	conns   map[string]*clientConn // by host:port
	targets map[string]target      // parsed URLs
}

// target is a URL split into what a request needs.
type target struct{ host, path string }

type clientConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newClient() *client {
	return &client{conns: map[string]*clientConn{}, targets: map[string]target{}}
}

// do sends method rawURL with body (JSON) and returns the response's
// status and body.
func (bc *client) do(ctx context.Context, method, rawURL string, body []byte) (int, []byte, error) {
	t, ok := bc.targets[rawURL]
	if !ok {
		u, err := url.Parse(rawURL)
		if err != nil {
			return 0, nil, err
		}
		if u.Scheme != "http" {
			return 0, nil, fmt.Errorf("%s: only http URLs", rawURL)
		}
		t = target{host: u.Host, path: u.RequestURI()}
		bc.targets[rawURL] = t
	}
	c, err := bc.conn(t.host)
	if err != nil {
		return 0, nil, err
	}
	status, msg, keep, err := c.roundTrip(ctx, method, t, body)
	if !keep || err != nil {
		bc.drop(t.host)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, t.path, err)
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

// roundTrip sends the request and reads its response; keep is whether the
// connection can carry the next request. A cancelled ctx ends a request
// in flight.
func (c *clientConn) roundTrip(ctx context.Context, method string, t target, body []byte) (status int, msg []byte, keep bool, err error) {
	if err := c.c.SetDeadline(time.Now().Add(time.Minute)); err != nil {
		return 0, nil, false, err
	}
	stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		if !stop() && ctx.Err() != nil {
			status, msg, keep, err = 0, nil, false, ctx.Err()
		}
	}()
	w := c.bw
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(t.path)
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(t.host)
	w.WriteString("\r\nContent-Type: application/json\r\nContent-Length: ")
	w.WriteString(strconv.Itoa(len(body)))
	w.WriteString("\r\n\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, nil, false, err
	}
	return c.readResponse(method)
}

// errResponse is a response this client cannot read.
var errResponse = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.1 response: its status, its body (by
// Content-Length, chunked, or to the connection's end) and whether the
// connection stays open.
func (c *clientConn) readResponse(method string) (status int, msg []byte, keep bool, err error) {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	proto, rest, ok := bytes.Cut(bytes.TrimRight(line, "\r\n"), []byte(" "))
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(rest) < 3 {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errResponse, line)
	}
	if status, err = strconv.Atoi(string(rest[:3])); err != nil {
		return 0, nil, false, fmt.Errorf("%w: status line %q", errResponse, line)
	}
	keep = string(proto) == "HTTP/1.1"
	length, chunked := -1, false
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, nil, false, fmt.Errorf("%w: header %q", errResponse, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, nil, false, fmt.Errorf("%w: Content-Length %q", errResponse, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = keep && !bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified:
	case chunked:
		if msg, err = io.ReadAll(httputil.NewChunkedReader(c.br)); err == nil {
			err = c.skipTrailer()
		}
	case length >= 0:
		msg = make([]byte, length)
		_, err = io.ReadFull(c.br, msg)
	default: // the body runs to the connection's end
		msg, err = io.ReadAll(c.br)
		keep = false
	}
	if err != nil {
		return 0, nil, false, err
	}
	return status, msg, keep, nil
}

// skipTrailer reads a chunked body's trailer section, up to its empty line.
func (c *clientConn) skipTrailer() error {
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return nil
		}
	}
}

// statusError describes an unexpected answer.
func statusError(what string, status int, msg []byte) error {
	return fmt.Errorf("%s: %d %s: %s", what, status, http.StatusText(status), strings.TrimSpace(string(msg)))
}
