package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/services/miner"
)

// The original Pycotr backend's routes (docs: compat/API.md), kept so the
// existing frontend works unchanged: same paths, methods, field names,
// messages and envelope; honest status codes.

const compatContentType = "application/json; charset=utf-8"

// compatOK is the original's success envelope.
type compatOK struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	Result  any    `json:"result"`
}

// compatError is the original's error envelope.
type compatError struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

func writeCompat(w http.ResponseWriter, message string, result any) {
	writeJSON(w, http.StatusOK, compatContentType, compatOK{Status: "success", Message: message, Result: result})
}

// maxRegisterURLs bounds the URLs one registration request may add.
const maxRegisterURLs = 64

func (a *api) compatRoutes(r chi.Router) {
	admin := r.With(a.requireAdmin) // Config.AdminToken, when set
	r.Get("/status", a.compatStatus)
	r.Post("/add_to_pending_transactions", a.handle(a.compatAddTx))
	r.Get("/get_wallets", a.handle(a.compatWallets))
	r.Get("/describe_network", a.compatDescribeNetwork)
	admin.Post("/stop_mining", a.compatStopMining)
	admin.Post("/start_mining", a.compatStartMining)
	r.Get("/is_mining", a.compatIsMining)
	r.Post("/register-and-broadcast-nodes", a.handle(a.compatRegisterAndBroadcast))
	r.Post("/register-node", a.handle(a.compatRegisterNode))
	r.Post("/register-all-nodes", a.handle(a.compatRegisterAll))
	r.Get("/get_blockchain", a.handle(a.compatGetBlockchain))
	r.Get("/describe_blockchain", a.handle(a.compatDescribeBlockchain))
	r.Get("/blockchain_id", a.compatBlockchainID)
	r.Get("/balance_for", a.handle(a.compatBalanceFor))
	admin.Get("/create_key", a.handle(a.compatCreateKey))
	admin.Post("/update_miner_pause", a.handle(a.compatUpdatePause))
	r.Get("/get_miner_pause", a.compatGetPause)
}

// handle adapts a handler that returns an error.
func (a *api) handle(f func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			a.writeError(w, r, err)
		}
	}
}

// pauseSeconds is the miner pause in whole seconds, as the original
// reported it.
func (a *api) pauseSeconds() int64 {
	return int64(a.miner.Pause().Round(time.Second) / time.Second)
}

func (a *api) compatStatus(w http.ResponseWriter, r *http.Request) {
	writeCompat(w, "", map[string]any{"status": "started", "mining": a.miner.Mining(), "miner_pause": a.pauseSeconds()})
}

func (a *api) compatIsMining(w http.ResponseWriter, r *http.Request) {
	writeCompat(w, "", a.miner.Mining())
}

func (a *api) compatStartMining(w http.ResponseWriter, r *http.Request) {
	a.miner.Start()
	writeCompat(w, "Miner started", nil)
}

func (a *api) compatStopMining(w http.ResponseWriter, r *http.Request) {
	a.miner.Stop()
	writeCompat(w, "Miner stopped", nil)
}

func (a *api) compatGetPause(w http.ResponseWriter, r *http.Request) {
	writeCompat(w, "", a.pauseSeconds())
}

func (a *api) compatUpdatePause(w http.ResponseWriter, r *http.Request) error {
	in, err := readArgs(r)
	if err != nil {
		return err
	}
	n, err := in.requiredInt("pause")
	if err != nil {
		return err
	}
	if err := a.setPause(float64(n)); err != nil {
		return err
	}
	writeCompat(w, fmt.Sprintf("Miner pause updated with: %d", n), nil)
	return nil
}

// setPause checks and sets the miner pause, in seconds.
func (a *api) setPause(seconds float64) error {
	if !(seconds >= 0 && seconds <= miner.MaxPause.Seconds()) { // also catches NaN
		return newError(http.StatusUnprocessableEntity, codeBadPause, "pause must be between 0 and %d seconds",
			int64(miner.MaxPause.Seconds()))
	}
	if err := a.miner.SetPause(time.Duration(seconds * float64(time.Second))); err != nil {
		return newError(http.StatusUnprocessableEntity, codeBadPause, "%v", err)
	}
	return nil
}

func (a *api) compatWallets(w http.ResponseWriter, r *http.Request) error {
	if _, err := readArgs(r); err != nil {
		return err
	}
	out := []chain.Address{}
	out = append(out, a.chain.Recipients()...)
	writeCompat(w, "", out)
	return nil
}

func (a *api) compatBlockchainID(w http.ResponseWriter, r *http.Request) {
	writeCompat(w, "", a.node.ID())
}

func (a *api) compatBalanceFor(w http.ResponseWriter, r *http.Request) error {
	in, err := readArgs(r)
	if err != nil {
		return err
	}
	wallet, err := in.requiredStr("wallet")
	if err != nil {
		return err
	}
	bal, err := a.chain.CheckedBalance(chain.Address(wallet))
	if err != nil {
		return err
	}
	writeCompat(w, "", bal)
	return nil
}

// compatKey is create_key's answer: the one place a private key leaves
// the node, because the client asked for a new one.
type compatKey struct {
	Private string `json:"private"`
	Public  string `json:"public"`
}

func (a *api) compatCreateKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := readArgs(r); err != nil {
		return err
	}
	k, err := a.generateKey()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCompat(w, "", compatKey{Private: chain.EncodePrivateKey(k), Public: string(chain.AddressOf(&k.PublicKey))})
	return nil
}

func (a *api) compatDescribeNetwork(w http.ResponseWriter, r *http.Request) {
	others := []string{}
	others = append(others, a.peers.URLs()...)
	writeCompat(w, "", map[string]any{"url": a.node.PublicURL(), "other_nodes": others, "pause": a.pauseSeconds()})
}

// peerURL checks a URL given to a registration route.
func peerURL(name, s string) (string, error) {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if s == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", badArg("%s must be an http(s) URL, got %q", name, s)
	}
	return s, nil
}

func (a *api) compatRegisterNode(w http.ResponseWriter, r *http.Request) error {
	return a.registerOne(w, r, "Node registered: ")
}

func (a *api) compatRegisterAndBroadcast(w http.ResponseWriter, r *http.Request) error {
	// Broadcasting is presence's job on NATS: registering is all there is.
	return a.registerOne(w, r, "Node added and broadcast: ")
}

func (a *api) registerOne(w http.ResponseWriter, r *http.Request, message string) error {
	in, err := readArgs(r)
	if err != nil {
		return err
	}
	s, err := in.requiredStr("nodeUrl")
	if err != nil {
		return err
	}
	u, err := peerURL("nodeUrl", s)
	if err != nil {
		return err
	}
	a.peers.Register(u)
	writeCompat(w, message+u, nil)
	return nil
}

func (a *api) compatRegisterAll(w http.ResponseWriter, r *http.Request) error {
	in, err := readArgs(r)
	if err != nil {
		return err
	}
	list, ok, err := in.strList("network_nodes")
	if err != nil {
		return err
	}
	if !ok {
		return missingArg("network_nodes")
	}
	if len(list) > maxRegisterURLs {
		return badArg("network_nodes: at most %d URLs", maxRegisterURLs)
	}
	urls := make([]string, len(list))
	for i, s := range list {
		if urls[i], err = peerURL("network_nodes", s); err != nil {
			return err
		}
	}
	for _, u := range urls {
		a.peers.Register(u)
	}
	writeCompat(w, "Nodes all registered: "+pythonList(urls), nil)
	return nil
}

// pythonList formats strings as Python's repr of a list, as the original's
// message did: ['http://a', 'http://b'].
func pythonList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "'", `\'`) + "'"
	}
	return "[" + strings.Join(q, ", ") + "]"
}
