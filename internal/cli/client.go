package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// Client calls a node's /api/v1 REST API. Errors are one line each: the
// node's problem documents become a *ProblemError, a node that does not
// answer says so with its URL.
type Client struct {
	base string
	http *http.Client
}

// NewClient returns a client of the node at base (http(s)://host:port).
func NewClient(base string) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, Usagef("bad node URL %q: want http(s)://host:port", base)
	}
	return &Client{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// ProblemError is an RFC 9457 problem document a node answered with.
type ProblemError struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

func (p *ProblemError) Error() string {
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	return oneLine(fmt.Sprintf("node refused (%d %s): %s", p.Status, p.Code, msg))
}

// isNotFound reports whether err is the node's 404.
func isNotFound(err error) bool {
	var p *ProblemError
	return errors.As(err, &p) && p.Status == http.StatusNotFound
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// do sends a request and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("node %s does not answer (is it running? see --node): %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/problem+json" {
		p := &ProblemError{}
		if json.Unmarshal(data, p) == nil {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			return nil, p
		}
	}
	text := oneLine(string(data))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return nil, fmt.Errorf("%s %s: node answered %s: %s", method, path, resp.Status, text)
}

// get decodes the answer of GET path into out and returns its raw JSON.
func (c *Client) get(ctx context.Context, path string, out any) (json.RawMessage, error) {
	data, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("GET %s: decode answer: %w", path, err)
		}
	}
	return data, nil
}

// Node is GET /api/v1/node, the fields the commands show.
type Node struct {
	Name    string     `json:"name"`
	URL     string     `json:"url"`
	Height  uint64     `json:"height"`
	Tip     chain.Hash `json:"tip"`
	Bits    uint32     `json:"bits"`
	Mempool int        `json:"mempool"`
	Peers   int        `json:"peers"`
	Mining  bool       `json:"mining"`
	Genesis chain.Hash `json:"genesis"`
}

// Block is a block as /api/v1 shows it.
type Block struct {
	Hash         chain.Hash   `json:"hash"`
	Height       uint64       `json:"height"`
	Main         bool         `json:"main"`
	Size         int          `json:"size"`
	Header       chain.Header `json:"header"`
	Transactions []chain.Tx   `json:"transactions"`
}

// ChainPage is GET /api/v1/chain.
type ChainPage struct {
	Height uint64  `json:"height"`
	From   uint64  `json:"from"`
	Blocks []Block `json:"blocks"`
	Next   *uint64 `json:"next"`
}

// TxStatus is GET /api/v1/txs/{id}.
type TxStatus struct {
	Tx     chain.Tx    `json:"tx"`
	Status string      `json:"status"` // pending | confirmed
	Height *uint64     `json:"height"`
	Block  *chain.Hash `json:"block"`
}

// Mempool is GET /api/v1/mempool.
type Mempool struct {
	Count        int        `json:"count"`
	Bytes        int        `json:"bytes"`
	Transactions []chain.Tx `json:"transactions"`
}

// Balance is GET /api/v1/balances/{address}.
type Balance struct {
	Address   chain.Address `json:"address"`
	Balance   int64         `json:"balance"`
	Spendable int64         `json:"spendable"`
}

// Node returns the node's state.
func (c *Client) Node(ctx context.Context) (Node, json.RawMessage, error) {
	var n Node
	raw, err := c.get(ctx, "/api/v1/node", &n)
	return n, raw, err
}

// Chain returns a page of the best chain upward from height from.
func (c *Client) Chain(ctx context.Context, from uint64, limit int) (ChainPage, error) {
	var p ChainPage
	_, err := c.get(ctx, fmt.Sprintf("/api/v1/chain?from=%d&limit=%d", from, limit), &p)
	return p, err
}

// Block returns a block by hash or height.
func (c *Client) Block(ctx context.Context, id string) (Block, json.RawMessage, error) {
	var b Block
	raw, err := c.get(ctx, "/api/v1/blocks/"+url.PathEscape(id), &b)
	return b, raw, err
}

// Tx returns a transaction and where it is.
func (c *Client) Tx(ctx context.Context, id string) (TxStatus, json.RawMessage, error) {
	var t TxStatus
	raw, err := c.get(ctx, "/api/v1/txs/"+url.PathEscape(id), &t)
	return t, raw, err
}

// Mempool returns the pending transactions in priority order.
func (c *Client) Mempool(ctx context.Context) (Mempool, json.RawMessage, error) {
	var m Mempool
	raw, err := c.get(ctx, "/api/v1/mempool", &m)
	return m, raw, err
}

// Balance returns an address's balance and spendable amount.
func (c *Client) Balance(ctx context.Context, a chain.Address) (Balance, error) {
	var b Balance
	_, err := c.get(ctx, "/api/v1/balances/"+url.PathEscape(string(a)), &b)
	return b, err
}

// submitTx is POST /api/v1/txs: the signed transaction and, for a card
// purchase, the card number and CVV the node checks and forgets.
type submitTx struct {
	chain.Tx
	CardNumber string `json:"card_number,omitempty"`
	CardCVV    string `json:"card_cvv,omitempty"`
}

// Submit sends a signed transaction; the node answers once it is in its
// mempool and relayed.
func (c *Client) Submit(ctx context.Context, tx chain.Tx) error {
	_, err := c.do(ctx, http.MethodPost, "/api/v1/txs", submitTx{Tx: tx})
	return err
}

// SubmitPurchase sends a signed card purchase with the card's number and
// CVV, which the node checks against the signed card fields.
func (c *Client) SubmitPurchase(ctx context.Context, tx chain.Tx, number, cvv string) error {
	_, err := c.do(ctx, http.MethodPost, "/api/v1/txs", submitTx{Tx: tx, CardNumber: number, CardCVV: cvv})
	return err
}
