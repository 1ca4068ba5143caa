package httpapi

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// The chain in the original's shape, for describe_blockchain and
// get_blockchain. Never a private key (the original leaked its miner's
// key here), never a CVV or a full card number.

// compatTx is a transaction as the original encoded it.
type compatTx struct {
	UUID        string `json:"uuid"`
	Type        string `json:"type"`
	Amount      int64  `json:"amount"`
	AttachedFee int64  `json:"attached_fee"`
	FromAddress string `json:"from_address"` // "" for a reward, never null: the frontend slices it
	ToAddress   string `json:"to_address"`
	Signature   string `json:"signature"`
	Reward      bool   `json:"reward"`
	CreditCard  bool   `json:"credit_card"`
	CCNumber    string `json:"credit_card_cc_number"` // masked
	CCDate      string `json:"credit_card_cc_date"`
	CCPict      string `json:"credit_card_cc_pict"` // the CVV in the original: always ""
	CCName      string `json:"credit_card_cc_name"`
}

func toCompatTx(tx *chain.Tx) compatTx {
	c := compatTx{
		UUID: tx.ID, Type: string(tx.Type), Amount: tx.Amount, AttachedFee: tx.Fee,
		FromAddress: string(tx.From), ToAddress: string(tx.To), Signature: tx.Signature,
		Reward: tx.Type == chain.TxReward, CreditCard: tx.Type == chain.TxMint,
	}
	if tx.Card != nil {
		c.CCNumber, c.CCDate = tx.Card.Masked, tx.Card.Expiry // the holder is not kept
	}
	return c
}

func toCompatTxs(txs []chain.Tx) []compatTx {
	out := make([]compatTx, len(txs))
	for i := range txs {
		out[i] = toCompatTx(&txs[i])
	}
	return out
}

// compatBlock is a block as the original encoded it, plus its index.
type compatBlock struct {
	Index        uint64     `json:"index"`
	Nonce        uint64     `json:"nonce"`
	Timestamp    string     `json:"timestamp"` // ISO 8601, as the original's isoformat()
	PreviousHash string     `json:"previous_hash"`
	Hash         string     `json:"hash"`
	Transactions []compatTx `json:"transactions"`
}

// compatTimestamp renders a block's unix-millisecond time in ISO 8601 UTC.
func compatTimestamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func toCompatBlock(b *chain.Block) compatBlock {
	return compatBlock{
		Index: b.Header.Height, Nonce: b.Header.Nonce, Timestamp: compatTimestamp(b.Header.Timestamp),
		PreviousHash: b.Header.PrevHash.String(), Hash: b.Hash().String(), Transactions: toCompatTxs(b.Txs),
	}
}

// compatChain is describe_blockchain's result.
type compatChain struct {
	ID                 string        `json:"id"`
	SourceBlockchainID string        `json:"source_blockchain_id"`
	Chain              []compatBlock `json:"chain"`
	PoolTransactions   []compatTx    `json:"pool_transactions"`
	Difficulty         uint32        `json:"difficulty"`
	MiningRewardAmount int64         `json:"mining_reward_amount"`
}

func (a *api) compatChainView() compatChain {
	c := a.chain
	blocks := c.Blocks(0, int(c.Height())+1)
	out := compatChain{
		ID: a.node.ID(), SourceBlockchainID: a.node.SourceChainID(),
		Chain:            make([]compatBlock, len(blocks)),
		PoolTransactions: toCompatTxs(c.Pending()),
		Difficulty:       c.Params().Bits, MiningRewardAmount: c.Params().Reward,
	}
	for i, b := range blocks {
		out.Chain[i] = toCompatBlock(b)
	}
	return out
}

func (a *api) compatDescribeBlockchain(w http.ResponseWriter, r *http.Request) error {
	if _, err := readArgs(r); err != nil {
		return err
	}
	body, err := a.chainViews.body(a, false)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, compatContentType, body)
	return nil
}

// compatGetBlockchain answers the same chain encoded as a JSON string
// inside the envelope: the original double-encoded it.
func (a *api) compatGetBlockchain(w http.ResponseWriter, r *http.Request) error {
	if _, err := readArgs(r); err != nil {
		return err
	}
	body, err := a.chainViews.body(a, true)
	if err != nil {
		return err
	}
	writeBody(w, http.StatusOK, compatContentType, body)
	return nil
}

// chainViewCache holds the last answers of describe_blockchain and
// get_blockchain, which hold the whole chain: built once per state of the
// chain and shared by every request until it changes. A state is the
// tip's hash, the mempool's version and the source chain id; the cache
// holds one state (the view's JSON and the two answers made from it), so
// its memory is bounded by a few copies of the chain's JSON. Requests
// that find it stale wait for the one that rebuilds it.
type chainViewCache struct {
	mu       sync.Mutex
	key      chainViewKey
	view     []byte // the compatChain's JSON; nil = none yet
	describe []byte // describe_blockchain's whole answer, made from view on first use
	get      []byte // get_blockchain's
}

type chainViewKey struct {
	tip    chain.Hash
	pool   uint64
	source string
}

// body returns get_blockchain's answer (asString) or describe_blockchain's
// for the chain's current state. The key is read before the view is
// built, so a view is never older than its key: a change during the build
// only makes the next request rebuild.
func (c *chainViewCache) body(a *api, asString bool) ([]byte, error) {
	key := chainViewKey{tip: a.chain.Tip().Hash, pool: a.chain.MempoolVersion(), source: a.node.SourceChainID()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.view == nil || c.key != key {
		if a.hooks.encodeChain != nil {
			a.hooks.encodeChain()
		}
		view, err := json.Marshal(a.compatChainView())
		if err != nil {
			return nil, err
		}
		c.key, c.view, c.describe, c.get = key, view, nil, nil
	}
	var err error
	switch {
	case asString && c.get == nil:
		c.get, err = encodeBody(compatOK{Status: "success", Message: "", Result: string(c.view)})
	case !asString && c.describe == nil:
		c.describe, err = encodeBody(compatOK{Status: "success", Message: "", Result: json.RawMessage(c.view)})
	}
	if err != nil {
		return nil, err
	}
	if asString {
		return c.get, nil
	}
	return c.describe, nil
}
