package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// `pycotr lab`: the fork lab from the terminal (docs/LAB.md). A client of
// PUT and DELETE /api/v1/node/isolation: cut a node off the network for a
// while, or heal it now. A node is named by its URL or by its name, which
// the node at --node resolves through its peer list.

var labGroup = group{
	name:    "lab",
	summary: "The fork lab: cut a node off the network so that it mines its own branch, then heal it (docs/LAB.md).",
	subs: []sub{
		{"isolate", "cut a node off the network for a while (it rejoins by itself)", runLabIsolate},
		{"heal", "reconnect a cut-off node now", runLabHeal},
	},
}

// RunLab is `pycotr lab`.
func RunLab(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return labGroup.dispatch(ctx, newEnv(stdout, stderr), args)
}

// LabCommands names `pycotr lab`'s sub-commands (for help tests).
func LabCommands() []string {
	out := make([]string, len(labGroup.subs))
	for i, s := range labGroup.subs {
		out[i] = s.name
	}
	return out
}

// maxIsolation is the node's bound (services.MaxIsolation), checked here
// first for a clearer message.
const maxIsolation = 10 * time.Minute

// isolationAnswer is the node's answer on /api/v1/node/isolation.
type isolationAnswer struct {
	Isolated      bool       `json:"isolated"`
	IsolatedUntil *time.Time `json:"isolated_until"`
	Seconds       float64    `json:"seconds"`
}

const labNodeArgs = "NODE (a name such as node-3, or its URL)"

func runLabIsolate(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "lab isolate", args: "NODE [--for 30s] [--node URL] [--json]",
		summary: "Cut a node off the network: it neither sends nor receives transactions, blocks, consensus or\npresence, keeps taking transactions over HTTP and mining on its own branch, and rejoins by itself\nwhen the time is up. Its peers see it leave; when it rejoins, the branch with less work is dropped.",
		details: "NODE is " + labNodeArgs + ". A name is looked up in the peer list of the node at --node.\n\nexample: pycotr lab isolate node-3 --for 30s"})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	d := fs.Duration("for", 30*time.Second, "how long, at most 10m")
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	if *d <= 0 || *d > maxIsolation {
		return Usagef("bad --for=%s: want more than 0 and at most %s", *d, maxIsolation)
	}
	c, name, err := resolveNode(ctx, *node, pos[0])
	if err != nil {
		return err
	}
	var a isolationAnswer
	data, err := c.do(ctx, http.MethodPut, "/api/v1/node/isolation", map[string]float64{"seconds": d.Seconds()})
	if err == nil {
		err = json.Unmarshal(data, &a)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, json.RawMessage(data))
	}
	until := ""
	if a.IsolatedUntil != nil {
		until = " until " + a.IsolatedUntil.Local().Format(time.TimeOnly)
	}
	fmt.Fprintf(e.stdout, "%s (%s) is cut off the network%s (%s): it mines on its own branch.\n", name, c.base, until, *d)
	fmt.Fprintf(e.stdout, "It rejoins by itself; to heal it sooner: pycotr lab heal %s\n", c.base)
	return nil
}

func runLabHeal(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags(spec{path: "lab heal", args: "NODE [--node URL] [--json]",
		summary: "Reconnect a cut-off node now: it beats its presence again and asks its peers for their tips; the\nbranch with less work is dropped (a reorg), and its still-valid transactions go back to the pool.",
		details: "NODE is " + labNodeArgs + ". A cut-off node is missing from its peers' lists, so give\nits URL when its name is not found.\n\nexample: pycotr lab heal http://localhost:3003"})
	node := nodeFlag(fs)
	asJSON := jsonFlag(fs)
	pos, err := parse(fs, args, 1, 1)
	if err != nil {
		return err
	}
	c, name, err := resolveNode(ctx, *node, pos[0])
	if err != nil {
		return err
	}
	data, err := c.do(ctx, http.MethodDelete, "/api/v1/node/isolation", nil)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, json.RawMessage(data))
	}
	fmt.Fprintf(e.stdout, "%s (%s) rejoined the network.\n", name, c.base)
	return nil
}

// resolveNode finds the node a command names: a URL as it is, a name as
// the node at via knows it (itself or a peer).
func resolveNode(ctx context.Context, via, target string) (*Client, string, error) {
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		c, err := NewClient(target)
		if err != nil {
			return nil, "", err
		}
		info, _, err := c.Node(ctx)
		if err != nil {
			return nil, "", err
		}
		return c, info.Name, nil
	}
	c, err := NewClient(via)
	if err != nil {
		return nil, "", err
	}
	info, _, err := c.Node(ctx)
	if err != nil {
		return nil, "", err
	}
	if info.Name == target {
		return c, target, nil
	}
	var peers struct {
		Peers []struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"peers"`
	}
	if _, err := c.get(ctx, "/api/v1/peers", &peers); err != nil {
		return nil, "", err
	}
	known := []string{info.Name}
	for _, p := range peers.Peers {
		if p.Name == target && p.URL != "" {
			pc, err := NewClient(p.URL)
			return pc, target, err
		}
		known = append(known, p.Name)
	}
	return nil, "", Usagef("no node %q known to %s (it knows %s); a node that is cut off leaves its peers' lists: give its URL instead",
		target, via, strings.Join(known, ", "))
}
