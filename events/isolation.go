package events

import (
	"errors"

	"github.com/nats-io/nats.go/micro"
)

// Isolation: the fork lab's switch that cuts a node off the network while
// its connection stays up. While the bus is isolated it publishes nothing
// (a publish is dropped and reports success: the node carries on as if
// alone), its inbound pipeline ignores every broadcast, its request-reply
// endpoints do not answer, and its own requests fail at once with
// ErrIsolated. None of this is counted as an error or a drop: it is what
// was asked for. The tap still records each message, marked Isolated.

// ErrIsolated is what a request returns while the bus is isolated.
var ErrIsolated = errors.New("the node is cut off from the network (isolated)")

// SetIsolated cuts the bus off the network (true) or reconnects it.
func (b *Bus) SetIsolated(on bool) { b.isolated.Store(on) }

// Isolated reports whether the bus is cut off.
func (b *Bus) Isolated() bool { return b.isolated.Load() }

// tapRequest records a request a micro endpoint received.
func (b *Bus) tapRequest(req micro.Request, v any) {
	if b.cfg.Tap == nil {
		return
	}
	b.tap(TapIn, req.Subject(), len(req.Data()), req.Headers().Get(HeaderNode), v)
}
