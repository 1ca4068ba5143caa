package events

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// The message tap: a learner's window on what a node sends and receives
// over NATS. The Bus records each message it publishes, each message its
// inbound pipeline decodes, and each request and reply, as a TapMessage:
// its subject, size, sender and a one-line summary. A Tap keeps the most
// recent ones in a ring and fans new ones out to subscribers (the HTTP
// tap stream); a subscriber that falls behind is dropped, so the tap never
// slows the bus.

// Directions of a tapped message.
const (
	TapOut = "out" // sent by this node
	TapIn  = "in"  // received by this node
)

// TapMessage is one NATS message as the tap saw it.
type TapMessage struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Dir     string    `json:"dir"` // TapOut or TapIn
	Subject string    `json:"subject"`
	Size    int       `json:"size"` // payload bytes
	Node    string    `json:"node"` // the sender's node id ("" when it sent none)
	Summary string    `json:"summary"`
	// Isolated: the node is cut off (Bus.SetIsolated): an outgoing message
	// was held back, an incoming one ignored.
	Isolated bool `json:"isolated,omitempty"`
}

// DefaultTapSize is how many recent messages a tap keeps.
const DefaultTapSize = 512

// Tap keeps recent messages and fans new ones out. The zero value is not
// usable: make one with NewTap.
type Tap struct {
	mu   sync.Mutex
	ring []TapMessage
	next int // where the next message goes in ring
	seq  uint64
	subs map[chan TapMessage]struct{}
}

// NewTap makes a tap that keeps the size most recent messages.
func NewTap(size int) *Tap {
	if size <= 0 {
		size = DefaultTapSize
	}
	return &Tap{ring: make([]TapMessage, 0, size), subs: make(map[chan TapMessage]struct{})}
}

// record stores m and hands it to every subscriber that has room; the
// others are dropped (their channels closed).
func (t *Tap) record(m TapMessage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	m.Seq = t.seq
	if len(t.ring) < cap(t.ring) {
		t.ring = append(t.ring, m)
	} else {
		t.ring[t.next] = m
	}
	t.next = (t.next + 1) % cap(t.ring)
	for ch := range t.subs {
		select {
		case ch <- m:
		default:
			delete(t.subs, ch)
			close(ch)
		}
	}
}

// Recent returns the kept messages, oldest first.
func (t *Tap) Recent() []TapMessage {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TapMessage, 0, len(t.ring))
	if len(t.ring) == cap(t.ring) {
		out = append(out, t.ring[t.next:]...)
		return append(out, t.ring[:t.next]...)
	}
	return append(out, t.ring...)
}

// Subscribe returns the messages recorded from now on. The tap closes the
// channel when the subscriber falls buf messages behind or the tap is
// closed; call the function to unsubscribe.
func (t *Tap) Subscribe(buf int) (<-chan TapMessage, func()) {
	ch := make(chan TapMessage, buf)
	t.mu.Lock()
	if t.subs == nil { // closed
		close(ch)
		t.mu.Unlock()
		return ch, func() {}
	}
	t.subs[ch] = struct{}{}
	t.mu.Unlock()
	return ch, func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		if _, ok := t.subs[ch]; ok {
			delete(t.subs, ch)
			close(ch)
		}
	}
}

// Close ends every subscription; later ones end at once.
func (t *Tap) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for ch := range t.subs {
		close(ch)
	}
	t.subs = nil
}

// SubjectMatches reports whether subject matches a NATS subject filter:
// "*" matches one token, a final ">" one or more.
func SubjectMatches(filter, subject string) bool {
	if filter == "" {
		return true
	}
	f, s := strings.Split(filter, "."), strings.Split(subject, ".")
	for i, tok := range f {
		if tok == ">" {
			return i == len(f)-1 && len(s) > i
		}
		if i >= len(s) || (tok != "*" && tok != s[i]) {
			return false
		}
	}
	return len(f) == len(s)
}

// ---- what the Bus records ----------------------------------------------

// tap records a message when the bus has a tap.
func (b *Bus) tap(dir, subject string, size int, node string, v any) {
	t := b.cfg.Tap
	if t == nil {
		return
	}
	isolated := b.Isolated()
	summary := ""
	if isolated && dir == TapIn {
		summary = "ignored: this node is cut off"
	} else {
		summary = b.summarize(subject, v)
		if isolated {
			summary = "held back (cut off): " + summary
		}
	}
	t.record(TapMessage{Time: time.Now(), Dir: dir, Subject: subject, Size: size, Node: node, Summary: summary, Isolated: isolated})
}

// tapOut records a message this node sends.
func (b *Bus) tapOut(subject string, size int, v any) { b.tap(TapOut, subject, size, b.cfg.NodeID, v) }

// tapIn records a message this node received.
func (b *Bus) tapIn(m *nats.Msg, v any) {
	if b.cfg.Tap == nil {
		return
	}
	b.tap(TapIn, m.Subject, len(m.Data), m.Header.Get(HeaderNode), v)
}

// consensusAsk stands for the body of a consensus request in the tap.
type consensusAsk struct{}

// summarize is a message's one-line summary for the tap.
func (b *Bus) summarize(subject string, v any) string {
	switch m := v.(type) { // what is published by value
	case TxMessage:
		v = &m
	case TxBatchMessage:
		v = &m
	case BlockMessage:
		v = &m
	case BlocksRequest:
		v = &m
	case struct{}:
		v = &m
	}
	switch m := v.(type) {
	case *TxMessage:
		tx := &m.Tx
		s := fmt.Sprintf("%s %s amount %d", tx.Type, shortID(tx.ID), tx.Amount)
		if tx.Fee > 0 {
			s += fmt.Sprintf(" fee %d", tx.Fee)
		}
		return s
	case *TxBatchMessage:
		var amount int64
		for i := range m.Txs {
			amount += m.Txs[i].Amount
		}
		return fmt.Sprintf("%d txs, amount %d in all", len(m.Txs), amount)
	case *BlockMessage:
		return fmt.Sprintf("block #%d %s, %d txs", m.Block.Header.Height, m.Hash.Short(), max(len(m.Block.Txs)-1, 0))
	case *NodeState:
		what := "presence"
		switch {
		case subject == b.cfg.Subjects.Consensus() || strings.HasPrefix(subject, nats.InboxPrefix):
			what = "tip"
		case strings.HasSuffix(subject, ".info"):
			what = "info"
		}
		mining := "not mining"
		if m.Mining {
			mining = "mining"
		}
		return fmt.Sprintf("%s: %s at #%d %s, %s", what, m.Name, m.Height, m.Tip.Short(), mining)
	case consensusAsk:
		return "consensus: every node, what is your tip?"
	case *BlocksRequest:
		return fmt.Sprintf("sync: blocks after a locator of %d hashes, up to %d KiB", len(m.Locator), m.MaxBytes>>10)
	case *BlocksReply:
		if len(m.Blocks) == 0 {
			return fmt.Sprintf("sync page: no block (peer at #%d)", m.TipHeight)
		}
		first, last := m.Blocks[0].Header.Height, m.Blocks[len(m.Blocks)-1].Header.Height
		more := ""
		if m.More {
			more = ", more to come"
		}
		return fmt.Sprintf("sync page: %d blocks #%d–#%d%s", len(m.Blocks), first, last, more)
	case *struct{}:
		return "info: describe yourself"
	case nil:
		return ""
	}
	return fmt.Sprintf("%T", v)
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
