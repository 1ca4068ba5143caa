package httpapi

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pycotr/pycotr/services"
)

// The fork lab's routes: cut the node off the network for a while
// (PUT/DELETE /api/v1/node/isolation) and watch the NATS messages it sends
// and receives (GET /api/v1/tap, server-sent events). docs/LAB.md walks a
// learner through them.

// Isolation is the node's fork-lab switch.
type Isolation interface {
	// Isolate cuts the node off the network for d; it rejoins by itself.
	Isolate(d time.Duration) (until time.Time, err error)
	// Heal reconnects it now; false if it was not isolated.
	Heal() bool
	// IsolatedUntil is when it rejoins; zero when connected.
	IsolatedUntil() time.Time
}

// MessageTap is the NATS messages the node sends and receives.
type MessageTap interface {
	TapRecent() []services.TapMessage
	TapSubscribe(buf int) (<-chan services.TapMessage, func())
	SubjectPrefix() string
}

// codeBadIsolation: seconds out of range.
const codeBadIsolation = "bad-isolation"

// tapBuffer is how many messages a tap stream may fall behind before the
// node drops it.
const tapBuffer = 256

// initLab takes the lab's parts from the Config, or from the Node when it
// has a lab (a *services.Node does).
func (a *api) initLab() {
	a.iso, a.tap = a.cfg.Isolation, a.cfg.Tap
	if n, ok := a.cfg.Node.(interface{ Lab() *services.Lab }); ok {
		if a.iso == nil {
			a.iso = n.Lab()
		}
		if a.tap == nil {
			a.tap = n.Lab()
		}
	}
}

func (a *api) labRoutes(r chi.Router) {
	r.Get("/node/isolation", a.handle(a.v1Isolation))
	r.Put("/node/isolation", a.handle(a.v1Isolate))
	r.Delete("/node/isolation", a.handle(a.v1Heal))
	r.Get("/tap", a.handle(a.v1Tap))
}

// isolationView is the node's isolation: isolated_until is null when it
// is connected.
type isolationView struct {
	Isolated      bool       `json:"isolated"`
	IsolatedUntil *time.Time `json:"isolated_until"`
	Seconds       float64    `json:"seconds"` // left, 0 when connected
	MaxSeconds    float64    `json:"max_seconds"`
}

// isolatedUntil is GET /api/v1/node's isolated_until: nil when connected
// or when the node has no lab.
func (a *api) isolatedUntil() *time.Time {
	if a.iso == nil {
		return nil
	}
	if u := a.iso.IsolatedUntil(); !u.IsZero() {
		u = u.UTC().Truncate(time.Millisecond)
		return &u
	}
	return nil
}

func (a *api) writeIsolation(w http.ResponseWriter) {
	v := isolationView{IsolatedUntil: a.isolatedUntil(), MaxSeconds: services.MaxIsolation.Seconds()}
	if v.IsolatedUntil != nil {
		v.Isolated = true
		v.Seconds = math.Max(0, math.Round(time.Until(*v.IsolatedUntil).Seconds()*10)/10)
	}
	writeV1(w, http.StatusOK, v)
}

func (a *api) noLab() error { return notFound("the fork lab is not available on this node") }

func (a *api) v1Isolation(w http.ResponseWriter, r *http.Request) error {
	if a.iso == nil {
		return a.noLab()
	}
	a.writeIsolation(w)
	return nil
}

// v1Isolate cuts the node off for {"seconds": N}; 0 heals, as DELETE does
// (for a browser on another origin, whose CORS preflight allows PUT).
func (a *api) v1Isolate(w http.ResponseWriter, r *http.Request) error {
	if a.iso == nil {
		return a.noLab()
	}
	var in struct {
		Seconds *float64 `json:"seconds"`
	}
	if err := readStrict(r, &in); err != nil {
		return err
	}
	if in.Seconds == nil {
		return missingArg("seconds")
	}
	max := services.MaxIsolation.Seconds()
	if s := *in.Seconds; math.IsNaN(s) || s < 0 || s > max {
		return newError(http.StatusUnprocessableEntity, codeBadIsolation, "seconds must be 0 (heal) to %g, got %g", max, s)
	}
	if *in.Seconds == 0 {
		a.iso.Heal()
	} else if _, err := a.iso.Isolate(time.Duration(*in.Seconds * float64(time.Second))); err != nil {
		switch {
		case errors.Is(err, services.ErrIsolationRange):
			return newError(http.StatusUnprocessableEntity, codeBadIsolation, "%v", err)
		case errors.Is(err, services.ErrNotRunning):
			return newError(http.StatusServiceUnavailable, codeInternal, "%v", err)
		}
		return err
	}
	a.writeIsolation(w)
	return nil
}

func (a *api) v1Heal(w http.ResponseWriter, r *http.Request) error {
	if a.iso == nil {
		return a.noLab()
	}
	a.iso.Heal()
	a.writeIsolation(w)
	return nil
}

// tapView is one message of GET /api/v1/tap.
type tapView struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Dir      string    `json:"dir"` // out | in
	Subject  string    `json:"subject"`
	Size     int       `json:"size"`
	Node     string    `json:"node,omitempty"`      // the sender's node id
	NodeName string    `json:"node_name,omitempty"` // its name, when known
	Summary  string    `json:"summary"`
	Isolated bool      `json:"isolated,omitempty"` // held back or ignored: the node was cut off
}

// tapHello is the first event of a tap stream.
type tapHello struct {
	Node    string `json:"node"`
	Prefix  string `json:"prefix"`
	Filter  string `json:"filter"`
	NATSSub string `json:"nats_sub"` // the nats CLI command that shows the same subjects
}

// checkSubjectFilter accepts a NATS subject filter: dot-separated tokens,
// "*" for one token, ">" as the last one.
func checkSubjectFilter(f string) error {
	if len(f) > 256 {
		return badArg("subject filter longer than 256 characters")
	}
	toks := strings.Split(f, ".")
	for i, tok := range toks {
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") || (tok == ">" && i != len(toks)-1) ||
			(len(tok) > 1 && strings.ContainsAny(tok, "*>")) {
			return badArg("subject filter %q: want NATS tokens separated by dots, * for one token, > at the end", f)
		}
	}
	return nil
}

// nodeNames resolves node ids to names for a tap stream, asking the peer
// directory again at most once a second.
type nodeNames struct {
	a     *api
	mu    sync.Mutex
	names map[string]string
	at    time.Time
}

func (n *nodeNames) name(id string) string {
	if id == "" {
		return ""
	}
	if id == n.a.node.ID() {
		return n.a.node.Name()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.names[id]; ok {
		return name
	}
	if time.Since(n.at) > time.Second {
		n.at = time.Now()
		n.names = map[string]string{}
		for _, p := range n.a.peers.List() {
			n.names[p.NodeID] = p.Name
		}
	}
	return n.names[id]
}

// v1Tap is GET /api/v1/tap: the NATS messages the node sends and
// receives, as server-sent events. The first event, hello, names the
// subject prefix and the equivalent `nats sub` command; then each message
// is a msg event, the recent ones first (unless recent=false). subject
// filters them with NATS wildcards (default: every subject, replies
// included). Like /events, a stream that falls behind is dropped.
func (a *api) v1Tap(w http.ResponseWriter, r *http.Request) error {
	if a.tap == nil {
		return a.noLab()
	}
	filter := r.URL.Query().Get("subject")
	if filter != "" {
		if err := checkSubjectFilter(filter); err != nil {
			return err
		}
	}
	recent := r.URL.Query().Get("recent") != "false"
	st, ok := a.openStream(w, r) // counted with /events against MaxEventStreams
	if !ok {
		return nil
	}
	defer st.release()
	ch, unsubscribe := a.tap.TapSubscribe(tapBuffer)
	defer unsubscribe()
	write := st.write
	names := &nodeNames{a: a}
	var last uint64
	send := func(m services.TapMessage) bool {
		if m.Seq <= last || !services.SubjectMatches(filter, m.Subject) {
			return true
		}
		last = m.Seq
		data, err := json.Marshal(tapView{Seq: m.Seq, Time: m.Time.UTC(), Dir: m.Dir, Subject: m.Subject, Size: m.Size,
			Node: m.Node, NodeName: names.name(m.Node), Summary: m.Summary, Isolated: m.Isolated})
		if err != nil {
			return true
		}
		return write("id: %d\nevent: msg\ndata: %s\n\n", m.Seq, data)
	}
	prefix := a.tap.SubjectPrefix()
	sub := filter
	if sub == "" {
		sub = prefix + ".>"
	}
	hello, _ := json.Marshal(tapHello{Node: a.node.Name(), Prefix: prefix, Filter: filter, NATSSub: "nats sub '" + sub + "'"})
	if !write("retry: 3000\nevent: hello\ndata: %s\n\n", hello) {
		return nil
	}
	if recent {
		for _, m := range a.tap.TapRecent() {
			if !send(m) {
				return nil
			}
		}
	}
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	stop := streamStop(r.Context())
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-stop:
			return nil
		case m, ok := <-ch:
			if !ok {
				write(": dropped\n\n")
				return nil
			}
			if !send(m) {
				return nil
			}
		case <-heartbeat.C:
			if !write(": heartbeat\n\n") {
				return nil
			}
		}
	}
}
