package services

import (
	"time"

	"github.com/pycotr/pycotr/events"
)

// TapMessage is one NATS message the node sent or received, as its tap
// recorded it (events.Tap).
type TapMessage = events.TapMessage

// Lab is the node's fork lab (docs/LAB.md): cutting it off the network
// and the tap of the NATS messages it sends and receives.
type Lab struct{ n *Node }

// Lab returns the node's fork lab.
func (n *Node) Lab() *Lab { return &Lab{n} }

// Isolate cuts the node off the network for d (at most MaxIsolation); it
// rejoins by itself when d has passed. Isolating an isolated node sets a
// new end. It returns when the node will rejoin.
func (l *Lab) Isolate(d time.Duration) (time.Time, error) { return l.n.isolate(d) }

// Heal reconnects an isolated node at once; it reports whether the node
// was isolated.
func (l *Lab) Heal() bool { return l.n.heal() }

// IsolatedUntil is when an isolated node rejoins; zero when it is
// connected.
func (l *Lab) IsolatedUntil() time.Time { return l.n.isolatedUntil() }

// TapRecent returns the messages the node sent and received lately,
// oldest first.
func (l *Lab) TapRecent() []TapMessage { return l.n.tap.Recent() }

// TapSubscribe returns the messages from now on; the node closes the
// channel when the subscriber falls buf messages behind or the node
// closes. Call the function to unsubscribe.
func (l *Lab) TapSubscribe(buf int) (<-chan TapMessage, func()) { return l.n.tap.Subscribe(buf) }

// SubjectPrefix is the prefix of the network's NATS subjects.
func (l *Lab) SubjectPrefix() string {
	if l.n.cfg.Prefix == "" {
		return events.DefaultPrefix
	}
	return l.n.cfg.Prefix
}

// SubjectMatches reports whether subject matches a NATS subject filter
// ("*" one token, a final ">" the rest; "" everything).
func SubjectMatches(filter, subject string) bool { return events.SubjectMatches(filter, subject) }
