package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// subscriberBuffer is how many events a stream may fall behind before the
// node drops it.
const subscriberBuffer = 64

// streamRetry is the Retry-After of a stream refused for the bound (the
// same as the stream's own reconnection delay, retry: 3000).
const streamRetry = 3 * time.Second

// events is GET /api/v1/events: the node's events as server-sent events,
// one per event, named by kind (tx, block, side-block, reorg, peer-up,
// peer-down, isolated, healed),
// with the event's JSON as data and a comment as heartbeat.
//
// A stream never slows the node: the node drops a subscriber that falls
// behind (its channel is closed), and the stream then ends; the browser's
// EventSource reconnects. Each write has its own deadline, so a client
// that stops reading is disconnected, and the server's read and write
// timeouts, meant for ordinary requests, are lifted for the stream.
//
// At most Config.MaxEventStreams streams are open at once; one more is
// refused with 503 and Retry-After (each stream holds a connection, a
// goroutine and a feed subscription).
//
// A HEAD request gets the stream's status and headers and ends at once: it
// neither subscribes, nor counts, nor holds the connection.
func (a *api) events(w http.ResponseWriter, r *http.Request) {
	st, ok := a.openStream(w, r)
	if !ok {
		return
	}
	defer st.release()
	ch, unsubscribe := a.node.Subscribe(subscriberBuffer)
	defer unsubscribe()
	write := st.write
	if !write("retry: 3000\n: %s\n\n", a.node.Name()) {
		return
	}
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	stop := streamStop(r.Context())
	var seq uint64
	for {
		select {
		case <-r.Context().Done():
			return
		case <-stop:
			return
		case e, ok := <-ch:
			if !ok { // dropped for falling behind, or the node stopped
				write(": dropped\n\n")
				return
			}
			data, err := json.Marshal(toEventView(e))
			if err != nil {
				a.log.Error("encode event", "kind", e.Kind, "err", err)
				continue
			}
			seq++
			if !write("id: %d\nevent: %s\ndata: %s\n\n", seq, e.Kind, data) {
				return
			}
		case <-heartbeat.C:
			if !write(": heartbeat\n\n") {
				return
			}
		}
	}
}

// streamStopKey carries, in a request's context, a channel closed when the
// server begins to shut down: long-lived streams end then, so that
// shutdown can drain the ordinary requests.
type streamStopKey struct{}

func withStreamStop(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, streamStopKey{}, stop)
}

// streamStop returns the request's shutdown channel (nil, never ready,
// under a server that is not ours, such as httptest's).
func streamStop(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(streamStopKey{}).(<-chan struct{})
	return stop
}

// openStream begins a server-sent event stream (/events, /tap): it counts
// the stream against Config.MaxEventStreams, answering 503 with
// Retry-After beyond it, sets the stream's headers and answers 200. A HEAD
// request is answered at once, without counting. ok is false when the
// request is answered and the handler must return; otherwise the handler
// writes events with the stream's write and calls release at its end.
func (a *api) openStream(w http.ResponseWriter, r *http.Request) (st *stream, ok bool) {
	h := w.Header()
	if r.Method == http.MethodHead {
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		return nil, false
	}
	if n := a.streams.Add(1); n > int64(a.cfg.MaxEventStreams) {
		a.streams.Add(-1)
		a.writeError(w, r, retryLater(http.StatusServiceUnavailable, codeTooManyStreams, streamRetry,
			"this node serves at most %d event streams at once: retry later", a.cfg.MaxEventStreams))
		return nil, false
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	st = &stream{w: w, rc: http.NewResponseController(w), timeout: a.cfg.StreamWriteTimeout, release: func() { a.streams.Add(-1) }}
	_ = st.rc.SetReadDeadline(time.Time{}) // the body is read; do not cut the stream at ReadTimeout
	w.WriteHeader(http.StatusOK)
	return st, true
}

// stream is an open event stream.
type stream struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration // per write: a client that reads nothing for this long is cut
	release func()
}

// write sends one formatted piece and flushes it; false when the client is
// gone or too slow.
func (s *stream) write(format string, args ...any) bool {
	if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return false
	}
	if _, err := fmt.Fprintf(s.w, format, args...); err != nil {
		return false
	}
	return s.rc.Flush() == nil
}
