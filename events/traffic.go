package events

import (
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
)

// Traffic kinds other than the broadcast subjects' suffixes (tx, block,
// presence, consensus), as TrafficCounter names them.
const (
	TrafficSyncRequest = "sync-request" // <prefix>.node.<id>.blocks
	TrafficInfoRequest = "info-request" // any other <prefix>.node.<id>.…
	TrafficReply       = "reply"        // _INBOX.…: an answer to a request
)

// Traffic is what a TrafficCounter counted for one kind.
type Traffic struct {
	Msgs  int64
	Bytes int64 // headers + payload, as delivered
}

// TrafficCounter is a NATS subscriber to every subject of a network and to
// every reply ('_INBOX.>'): it receives one copy of each message the nodes
// publish and of each answer to their requests, and counts them by kind.
// It measures what the protocol costs (pycotr bench); a node has no use
// for it.
type TrafficCounter struct {
	nc       *nats.Conn
	subjects Subjects
	mu       sync.Mutex
	by       map[string]Traffic
}

// CountTraffic connects to s in-process and counts the network's traffic
// from the moment it returns.
func CountTraffic(s *Server, subjects Subjects) (*TrafficCounter, error) {
	if subjects.Prefix == "" {
		subjects.Prefix = DefaultPrefix
	}
	nc, err := nats.Connect("", nats.Name("pycotr-traffic-counter"), nats.InProcessServer(s.inProcess()))
	if err != nil {
		return nil, fmt.Errorf("traffic counter: %w", err)
	}
	c := &TrafficCounter{nc: nc, subjects: subjects, by: map[string]Traffic{}}
	for _, subj := range []string{subjects.All(), nats.InboxPrefix + ">"} {
		sub, err := nc.Subscribe(subj, c.count)
		if err == nil {
			err = sub.SetPendingLimits(-1, -1) // count everything, however late
		}
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("traffic counter: subscribe %s: %w", subj, err)
		}
	}
	if err := nc.Flush(); err != nil { // the server has the subscriptions
		nc.Close()
		return nil, fmt.Errorf("traffic counter: %w", err)
	}
	return c, nil
}

func (c *TrafficCounter) count(m *nats.Msg) {
	kind := c.kind(m.Subject)
	size := int64(m.Size() - len(m.Subject) - len(m.Reply))
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.by[kind]
	t.Msgs++
	t.Bytes += size
	c.by[kind] = t
}

// kind names a subject: a broadcast suffix, or one of the Traffic kinds.
func (c *TrafficCounter) kind(subject string) string {
	if strings.HasPrefix(subject, nats.InboxPrefix) {
		return TrafficReply
	}
	s := strings.TrimPrefix(subject, c.subjects.Prefix+".")
	switch {
	case strings.HasPrefix(s, suffixNode+".") && strings.HasSuffix(s, ".blocks"):
		return TrafficSyncRequest
	case strings.HasPrefix(s, suffixNode+"."):
		return TrafficInfoRequest
	}
	return s
}

// Reset forgets what was counted.
func (c *TrafficCounter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.by)
}

// Counts returns what was counted since the start or the last Reset, by
// kind.
func (c *TrafficCounter) Counts() map[string]Traffic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.by)
}

// Close disconnects.
func (c *TrafficCounter) Close() { c.nc.Close() }
