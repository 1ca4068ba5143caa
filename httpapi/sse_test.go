package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/pycotr/pycotr/internal/testkit"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pycotr/pycotr/services"
)

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	name string
	data string
}

// readSSE parses an event stream into events (comments are reported as
// events named ":") until the stream ends.
func readSSE(r io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var e sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if e.name != "" {
				out <- e
			}
			e = sseEvent{}
		case strings.HasPrefix(line, ":"):
			out <- sseEvent{name: ":", data: strings.TrimSpace(line[1:])}
		case strings.HasPrefix(line, "event: "):
			e.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			e.data = line[len("data: "):]
		}
	}
}

// openStream connects to the event stream and parses it in the background.
func openStream(t *testing.T, url string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	ch := make(chan sseEvent, 256)
	go readSSE(res.Body, ch)
	return ch
}

// waitSSE reads events until want accepts one.
func waitSSE(t *testing.T, ch <-chan sseEvent, within time.Duration, what string, want func(sseEvent) bool) sseEvent {
	t.Helper()
	return testkit.Receive(t, ch, within, what, want)
}

func TestEventsStreamTxAndBlock(t *testing.T) {
	ta := newTestAPI(t, startNode(t, startServer(t), 0), func(c *Config) { c.Heartbeat = 50 * time.Millisecond })
	n := ta.node
	ch := openStream(t, ta.srv.URL)
	waitSSE(t, ch, 5*time.Second, "a heartbeat", func(e sseEvent) bool { return e.name == ":" && e.data == "heartbeat" })

	mint := signedMint(t, 1, 10)
	if err := n.SubmitTx(&mint); err != nil {
		t.Fatal(err)
	}
	e := waitSSE(t, ch, 5*time.Second, "the tx event", func(e sseEvent) bool { return e.name == "tx" })
	var ev services.Event
	if err := json.Unmarshal([]byte(e.data), &ev); err != nil || ev.Kind != services.EventTx || ev.Tx == nil || ev.Tx.ID != mint.ID {
		t.Fatalf("tx event %s (%v)", e.data, err)
	}

	n.Miner().Start()
	e = waitSSE(t, ch, 10*time.Second, "a block event", func(e sseEvent) bool { return e.name == "block" })
	n.Miner().Stop()
	if err := json.Unmarshal([]byte(e.data), &ev); err != nil || ev.Kind != services.EventBlock || ev.Height == 0 {
		t.Fatalf("block event %s (%v)", e.data, err)
	}
	b, ok := n.Chain().BlockAt(ev.Height)
	if !ok || b.Hash().String() != ev.Hash || ev.Miner != string(n.Miner().Address()) {
		t.Errorf("block event %+v does not name the block at its height", ev)
	}
}

// smallBuffers makes accepted connections' send buffers tiny, so that a
// client that does not read blocks the server's writes after a few KiB.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestEventsStalledClient: a client that opens the stream and never reads
// does not slow the node. It is dropped once its buffer is full, blocks
// keep being processed, and its stream ends.
func TestEventsStalledClient(t *testing.T) {
	n := startNode(t, startServer(t), 0)
	srv := httptest.NewUnstartedServer(New(func() Config { c := nodeConfig(n); c.StreamWriteTimeout = 500 * time.Millisecond; return c }()))
	srv.Listener = smallBuffers{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)

	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := d.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
	// Read up to the stream's first line (so the stream is subscribed),
	// then never again.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var head []byte
	for !strings.Contains(string(head), "retry: ") {
		buf := make([]byte, 64)
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading the stream's head: %v (%q)", err, head)
		}
		head = append(head, buf[:k]...)
	}

	// Far more events than the subscriber buffer and socket buffers hold:
	// a few hundred card purchases, then blocks.
	drops := n.Stats().FeedDrops
	for i := range 300 {
		tx := signedMint(t, i%8, 1)
		if err := n.SubmitTx(&tx); err != nil {
			t.Fatal(err)
		}
	}
	start := n.Chain().Height()
	mineUntil(t, n, "blocks are processed while a client stalls", func() bool {
		count, _ := n.Chain().MempoolStats()
		return n.Chain().Height() >= start+3 && count == 0
	})
	if n.Stats().FeedDrops <= drops {
		t.Error("the stalled subscriber was not dropped")
	}
	// Its stream ends (the response is finished, or the connection cut
	// when a write timed out): reading now finds the end of what was
	// buffered, not a timeout.
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader(string(head)), conn)), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(io.Discard, res.Body)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("stalled stream not ended by the server: %v", err)
	}
}
