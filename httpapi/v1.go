package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/pycotr/pycotr/chain"
)

// The /api/v1 REST API: JSON in and out, errors as RFC 9457 problem
// documents, unknown fields refused. Documented in openapi.json.

const v1ContentType = "application/json; charset=utf-8"

// Paging of GET /api/v1/chain.
const (
	defaultPageLimit = 50
	maxPageLimit     = 500
)

func (a *api) v1Routes(r chi.Router) {
	r.Get("/", a.handle(a.v1Index))
	r.Get("/openapi.json", serveOpenAPI)
	r.Get("/node", a.handle(a.v1Node))
	r.Get("/peers", a.handle(a.v1Peers))
	r.Get("/chain", a.handle(a.v1Chain))
	r.Get("/blocks/{id}", a.handle(a.v1Block))
	r.Get("/txs/{id}", a.handle(a.v1Tx))
	r.Post("/txs", a.handle(a.v1SubmitTx))
	r.Get("/mempool", a.handle(a.v1Mempool))
	r.Get("/balances/{address}", a.handle(a.v1Balance))
	admin := r.With(a.requireAdmin) // Config.AdminToken, when set
	admin.Post("/keys", a.handle(a.v1Keys))
	r.Get("/miner", a.handle(a.v1Miner))
	admin.Post("/miner/start", a.handle(a.v1MinerStart))
	admin.Post("/miner/stop", a.handle(a.v1MinerStop))
	admin.Put("/miner/pause", a.handle(a.v1MinerPause))
	admin.Put("/miner/hashrate", a.handle(a.v1MinerHashRate))
	r.Get("/events", a.events)
	a.labRoutes(r) // lab.go
}

func writeV1(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v1ContentType, v) }

func (a *api) v1Index(w http.ResponseWriter, r *http.Request) error {
	writeV1(w, http.StatusOK, map[string]string{"openapi": "/api/v1/openapi.json", "events": "/api/v1/events"})
	return nil
}

// nodeView is GET /api/v1/node.
type nodeView struct {
	stateView
	SourceChainID string       `json:"source_chain_id"`
	MinerAddress  string       `json:"miner_address"`
	Genesis       chain.Hash   `json:"genesis"`
	Params        chain.Params `json:"params"`
	HashRate      float64      `json:"hash_rate"`
	IsolatedUntil *time.Time   `json:"isolated_until"` // cut off the network until then (lab.go); null when connected
}

func (a *api) v1Node(w http.ResponseWriter, r *http.Request) error {
	c := a.chain
	writeV1(w, http.StatusOK, nodeView{
		stateView: toStateView(a.node.State()), SourceChainID: a.node.SourceChainID(),
		MinerAddress: string(a.miner.Address()), Genesis: c.GenesisHash(), Params: c.Params(),
		HashRate: a.miner.HashRate(), IsolatedUntil: a.isolatedUntil(),
	})
	return nil
}

func (a *api) v1Peers(w http.ResponseWriter, r *http.Request) error {
	peers := []stateView{}
	for _, p := range a.peers.List() {
		peers = append(peers, toStateView(p))
	}
	writeV1(w, http.StatusOK, map[string]any{"peers": peers})
	return nil
}

// blockView is a block with its hash and place.
type blockView struct {
	Hash         chain.Hash   `json:"hash"`
	Height       uint64       `json:"height"`
	Main         bool         `json:"main"` // on the best chain
	Size         int          `json:"size"`
	Header       chain.Header `json:"header"`
	Transactions []chain.Tx   `json:"transactions"`
}

func toBlockView(b *chain.Block, main bool) blockView {
	txs := b.Txs
	if txs == nil {
		txs = []chain.Tx{}
	}
	return blockView{Hash: b.Hash(), Height: b.Header.Height, Main: main, Size: b.Size(), Header: b.Header, Transactions: txs}
}

// queryUint reads an optional unsigned query parameter.
func queryUint(r *http.Request, name string, def uint64) (uint64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, badArg("query parameter %s must be a non-negative integer, got %q", name, s)
	}
	return v, nil
}

func (a *api) v1Chain(w http.ResponseWriter, r *http.Request) error {
	from, err := queryUint(r, "from", 0)
	if err != nil {
		return err
	}
	limit, err := queryUint(r, "limit", defaultPageLimit)
	if err != nil {
		return err
	}
	if limit < 1 || limit > maxPageLimit {
		return badArg("query parameter limit must be 1 to %d, got %d", maxPageLimit, limit)
	}
	c := a.chain
	height := c.Height()
	blocks := c.Blocks(from, int(limit))
	views := make([]blockView, len(blocks))
	for i, b := range blocks {
		views[i] = toBlockView(b, true)
	}
	page := map[string]any{"height": height, "from": from, "limit": limit, "blocks": views}
	if n := from + uint64(len(blocks)); len(blocks) > 0 && n <= height {
		page["next"] = n
	}
	writeV1(w, http.StatusOK, page)
	return nil
}

func (a *api) v1Block(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	c := a.chain
	if len(id) == 64 {
		h, err := chain.ParseHash(id)
		if err != nil {
			return badArg("block id %q: want a 64-hex hash or a decimal height", id)
		}
		b, main, ok := c.BlockByHash(h)
		if !ok {
			return notFound("no block %s", id)
		}
		writeV1(w, http.StatusOK, toBlockView(b, main))
		return nil
	}
	height, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return badArg("block id %q: want a 64-hex hash or a decimal height", id)
	}
	b, ok := c.BlockAt(height)
	if !ok {
		return notFound("no block at height %d (tip is %d)", height, c.Height())
	}
	writeV1(w, http.StatusOK, toBlockView(b, true))
	return nil
}

// txView is a transaction and where it is.
type txView struct {
	Tx     chain.Tx    `json:"tx"`
	Status string      `json:"status"` // pending | confirmed
	Height *uint64     `json:"height,omitempty"`
	Block  *chain.Hash `json:"block,omitempty"`
}

func (a *api) v1Tx(w http.ResponseWriter, r *http.Request) error {
	id := chi.URLParam(r, "id")
	tx, state, loc := a.chain.FindTx(id)
	if from := r.URL.Query().Get("from"); from != "" { // ids are unique per sender
		tx, state, loc = a.chain.FindTxFrom(chain.Address(from), id)
	}
	switch state {
	case chain.TxPending:
		writeV1(w, http.StatusOK, txView{Tx: tx, Status: "pending"})
	case chain.TxConfirmed:
		writeV1(w, http.StatusOK, txView{Tx: tx, Status: "confirmed", Height: &loc.Height, Block: &loc.Block})
	case chain.TxAmbiguous:
		return newError(http.StatusConflict, codeAmbiguousTx, "transactions of several senders bear id %q; ask with ?from=<sender address>", id)
	default:
		return notFound("no transaction %q pending or on the best chain", id)
	}
	return nil
}

func (a *api) v1Mempool(w http.ResponseWriter, r *http.Request) error {
	c := a.chain
	txs := c.Pending()
	if txs == nil {
		txs = []chain.Tx{}
	}
	count, bytes := c.MempoolStats()
	writeV1(w, http.StatusOK, map[string]any{"count": count, "bytes": bytes, "transactions": txs})
	return nil
}

func (a *api) v1Balance(w http.ResponseWriter, r *http.Request) error {
	addr := chain.Address(chi.URLParam(r, "address"))
	c := a.chain
	bal, err := c.CheckedBalance(addr)
	if err != nil {
		return err
	}
	writeV1(w, http.StatusOK, map[string]any{"address": addr, "balance": bal, "spendable": c.Spendable(addr)})
	return nil
}

// v1SubmitTx takes a transaction the client built and signed (see
// chain.Tx.SigningBytes) and answers 202: accepted into the mempool and
// relayed, not yet confirmed.
// submitTxRequest is POST /api/v1/txs: a transaction signed by the client
// and, for a card purchase, the card number and CVV, so that the node can
// check the number (Luhn) and that the signed card fields were derived from
// it. Neither is stored or relayed.
type submitTxRequest struct {
	chain.Tx
	CardNumber string `json:"card_number,omitempty"`
	CardCVV    string `json:"card_cvv,omitempty"`
}

func (a *api) v1SubmitTx(w http.ResponseWriter, r *http.Request) error {
	b, err := readJSONBody(r)
	if err != nil {
		return err
	}
	if b == nil {
		return newError(http.StatusBadRequest, codeMissingArgument, "a JSON request body is required")
	}
	if isJSONArray(b) {
		return a.v1SubmitTxs(w, b)
	}
	var req submitTxRequest
	if err := decodeStrict(b, &req); err != nil {
		return err
	}
	tx := req.Tx
	if err := checkCardProof(&tx, req.CardNumber, req.CardCVV); err != nil {
		return err
	}
	if err := a.node.SubmitTx(&tx); err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/txs/"+tx.ID)
	writeV1(w, http.StatusAccepted, map[string]string{"id": tx.ID, "status": "pending"})
	return nil
}

// maxSubmitBatch bounds the transactions of one POST /api/v1/txs batch
// (the body limit bounds their bytes).
const maxSubmitBatch = 256

// submitResult is one transaction's outcome in a batch: "pending" (202
// alone) or "rejected" with the problem it would have been answered alone.
type submitResult struct {
	ID     string   `json:"id"`
	Status string   `json:"status"`
	Error  *problem `json:"error,omitempty"`
}

// v1SubmitTxs is POST /api/v1/txs with an array of what the single form
// takes: each transaction judged on its own and in order, the accepted
// ones made safe together (one fsync, one relay message and flush), so a
// client sending many pays one round trip for them. A well-formed batch
// is answered 200 with one result per transaction, in order; a malformed
// one (bad JSON, over maxSubmitBatch) 400, with nothing submitted.
func (a *api) v1SubmitTxs(w http.ResponseWriter, b []byte) error {
	var reqs []submitTxRequest
	if err := decodeStrict(b, &reqs); err != nil {
		return err
	}
	if len(reqs) == 0 || len(reqs) > maxSubmitBatch {
		return badArg("a batch holds 1 to %d transactions, not %d", maxSubmitBatch, len(reqs))
	}
	results := make([]submitResult, len(reqs))
	txs := make([]*chain.Tx, 0, len(reqs))
	at := make([]int, 0, len(reqs)) // txs[k] is reqs[at[k]]
	for i := range reqs {
		tx := &reqs[i].Tx
		results[i].ID = tx.ID
		if err := checkCardProof(tx, reqs[i].CardNumber, reqs[i].CardCVV); err != nil {
			results[i].reject(err)
			continue
		}
		txs = append(txs, tx)
		at = append(at, i)
	}
	if len(txs) > 0 {
		for k, err := range a.node.SubmitTxs(txs) {
			if err != nil {
				results[at[k]].reject(err)
			} else {
				results[at[k]].Status = "pending"
			}
		}
	}
	accepted := 0
	for _, r := range results {
		if r.Error == nil {
			accepted++
		}
	}
	writeV1(w, http.StatusOK, map[string]any{"accepted": accepted, "rejected": len(results) - accepted, "results": results})
	return nil
}

func (r *submitResult) reject(err error) {
	ae := classify(err)
	r.Status = "rejected"
	r.Error = &problem{Type: problemTypeBase + ae.Code, Title: ae.Title, Status: ae.Status, Detail: ae.Detail, Code: ae.Code}
}

// isJSONArray reports whether a JSON body is an array.
func isJSONArray(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '['
}

// v1Keys makes a wallet key for development; off unless Config.DevKeys.
func (a *api) v1Keys(w http.ResponseWriter, r *http.Request) error {
	if !a.cfg.DevKeys {
		return notFound("the development key generator is disabled on this node")
	}
	k, err := a.generateKey()
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeV1(w, http.StatusCreated, map[string]string{
		"address":     string(chain.AddressOf(&k.PublicKey)),
		"private_key": chain.EncodePrivateKey(k),
		"warning":     "development only: the key travelled over HTTP; never hold value with it",
	})
	return nil
}

// minerView is the miner's state.
type minerView struct {
	Mining   bool    `json:"mining"`
	Pause    float64 `json:"pause"` // seconds
	Mode     string  `json:"mode"`
	Address  string  `json:"address"`
	HashRate float64 `json:"hash_rate"`       // measured over the last solve
	Limit    float64 `json:"hash_rate_limit"` // 0 = none
}

func (a *api) writeMiner(w http.ResponseWriter) {
	writeV1(w, http.StatusOK, minerView{
		Mining: a.miner.Mining(), Pause: a.miner.Pause().Seconds(), Mode: string(a.miner.Mode()),
		Address: string(a.miner.Address()), HashRate: a.miner.HashRate(), Limit: a.miner.HashRateLimit(),
	})
}

func (a *api) v1Miner(w http.ResponseWriter, r *http.Request) error {
	a.writeMiner(w)
	return nil
}

func (a *api) v1MinerStart(w http.ResponseWriter, r *http.Request) error {
	a.miner.Start()
	a.writeMiner(w)
	return nil
}

func (a *api) v1MinerStop(w http.ResponseWriter, r *http.Request) error {
	a.miner.Stop()
	a.writeMiner(w)
	return nil
}

func (a *api) v1MinerPause(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Pause *float64 `json:"pause"`
	}
	if err := readStrict(r, &in); err != nil {
		return err
	}
	if in.Pause == nil {
		return missingArg("pause")
	}
	if err := a.setPause(*in.Pause); err != nil {
		return err
	}
	a.writeMiner(w)
	return nil
}

// v1MinerHashRate sets the miner's hash-rate limit (the race mode's
// "power"), in hashes per second; 0 removes the limit.
func (a *api) v1MinerHashRate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		HashRate *float64 `json:"hash_rate"`
	}
	if err := readStrict(r, &in); err != nil {
		return err
	}
	if in.HashRate == nil {
		return missingArg("hash_rate")
	}
	if err := a.miner.SetHashRate(*in.HashRate); err != nil {
		return newError(http.StatusUnprocessableEntity, codeBadHashRate, "%v", err)
	}
	a.writeMiner(w)
	return nil
}

// checkCardProof checks a card purchase's card number and CVV against the
// card fields the client signed: the number must pass Luhn and give the
// same masked number. Other transactions carry neither.
func checkCardProof(tx *chain.Tx, number, cvv string) error {
	if tx.Type != chain.TxMint {
		if number != "" || cvv != "" {
			return fmt.Errorf("card_number and card_cvv belong to card purchases only: %w", chain.ErrUnexpectedCard)
		}
		return nil
	}
	if tx.Card == nil {
		return fmt.Errorf("card purchase: %w", chain.ErrMissingCard)
	}
	if number == "" || cvv == "" {
		return fmt.Errorf("a card purchase needs card_number and card_cvv: %w", chain.ErrBadCardData)
	}
	card, err := chain.NewCard(chain.CardInput{Number: number, Expiry: tx.Card.Expiry, CVV: cvv})
	if err != nil {
		return err
	}
	if card != *tx.Card {
		return fmt.Errorf("signed card fields do not match the card number: %w", chain.ErrBadCardData)
	}
	return nil
}
