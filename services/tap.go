package services

import "github.com/pycotr/pycotr/events"

// TapMessage is one NATS message the node sent or received, as its tap
// recorded it (events.Tap).
type TapMessage = events.TapMessage

// TapRecent returns the messages the node sent and received lately,
// oldest first.
func (n *Node) TapRecent() []TapMessage { return n.tap.Recent() }

// TapSubscribe returns the messages from now on; the node closes the
// channel when the subscriber falls buf messages behind or the node
// closes. Call the function to unsubscribe.
func (n *Node) TapSubscribe(buf int) (<-chan TapMessage, func()) { return n.tap.Subscribe(buf) }

// SubjectPrefix is the prefix of the network's NATS subjects.
func (n *Node) SubjectPrefix() string {
	if n.cfg.Prefix == "" {
		return events.DefaultPrefix
	}
	return n.cfg.Prefix
}

// SubjectMatches reports whether subject matches a NATS subject filter
// ("*" one token, a final ">" the rest; "" everything).
func SubjectMatches(filter, subject string) bool { return events.SubjectMatches(filter, subject) }
