package chain

import (
	"crypto/rsa"
	"crypto/sha256"
	"strconv"

	"github.com/google/uuid"
)

// TxType names the three kinds of transaction.
type TxType string

const (
	// TxTransfer moves Amount from From to To, signed by From.
	TxTransfer TxType = "transfer"
	// TxMint is the original's card purchase: From == To, signed by that
	// wallet, credits Amount. Card holds the masked number and the expiry.
	TxMint TxType = "mint"
	// TxReward is the coinbase: first and only one per block, unsigned,
	// pays the block reward plus the block's fees to the miner (To).
	TxReward TxType = "reward"
)

// MaxAmount bounds a single amount or fee, far above any learning use, so
// that sums over a block can never overflow int64.
const MaxAmount = int64(1) << 50

// SigningVersion is the first line of the signing bytes.
const SigningVersion = "pycotr-tx-v2"

// Tx is a transaction. Its JSON form is the wire form on NATS and on the
// v1 HTTP API.
type Tx struct {
	Type      TxType  `json:"type"`
	ID        string  `json:"id"` // lowercase canonical UUID, chosen by the client
	From      Address `json:"from,omitempty"`
	To        Address `json:"to"`
	Amount    int64   `json:"amount"`
	Fee       int64   `json:"fee"`
	Card      *Card   `json:"card,omitempty"`
	Signature string  `json:"signature,omitempty"` // hex RSASSA-PKCS1-v1_5/SHA-256

	// signed is the Hash of the content Sign produced, with the key of
	// From: while Hash still equals it, these exact bytes carry a good
	// signature (crypto/rsa checks each signature it makes), so
	// CheckTxSanity need not verify it again. Any change to a field
	// changes Hash; a copy received from a peer or a client (decoded from
	// JSON) has none (nil: a pointer keeps every other Tx small), and is
	// verified.
	signed *Hash
}

// SigningBytes is the canonical byte string a wallet signs: one
// "name:value\n" line per protected field, in this fixed order, after a
// version line. docs/PROTOCOL.md specifies it for other implementations.
func (tx *Tx) SigningBytes() []byte {
	return tx.appendSigningBytes(make([]byte, 0, 96+len(tx.From)+len(tx.To)))
}

// appendSigningBytes appends the signing bytes to b: a caller that needs
// them only for a moment (a block's check hashes each transaction's and
// drops them) builds them in a buffer of its own instead of a new slice
// each time.
func (tx *Tx) appendSigningBytes(b []byte) []byte {
	b = append(b, SigningVersion...)
	b = append(b, '\n')
	line := func(name, v string) {
		b = append(b, name...)
		b = append(b, ':')
		b = append(b, v...)
		b = append(b, '\n')
	}
	line("type", string(tx.Type))
	line("id", tx.ID)
	line("from", string(tx.From))
	line("to", string(tx.To))
	b = append(b, "amount:"...)
	b = strconv.AppendInt(b, tx.Amount, 10)
	b = append(b, "\nfee:"...)
	b = strconv.AppendInt(b, tx.Fee, 10)
	b = append(b, '\n')
	var c Card
	if tx.Card != nil {
		c = *tx.Card
	}
	line("card_masked", c.Masked)
	line("card_expiry", c.Expiry)
	return b
}

// Hash identifies the transaction's exact content, signature included; it
// is the merkle leaf.
func (tx *Tx) Hash() Hash { return hashOf(tx.SigningBytes(), tx.Signature) }

// hashOf is the Hash of a transaction with these signing bytes and
// signature; msg is not changed.
func hashOf(msg []byte, sig string) Hash {
	// The bytes hashed are built on the stack when they fit (a transfer
	// between RSA-2048 wallets is about 1.9 KB): hashing is done for every
	// transaction a node admits and for every transaction of every block
	// it checks, and a new slice each time was a third of what the node
	// allocated, so of what its GC had to collect.
	var buf [hashBufSize]byte
	b := buf[:0]
	if n := len(msg) + len(sig) + len("signature:\n"); n > len(buf) {
		b = make([]byte, 0, n)
	}
	b = append(b, msg...)
	b = append(b, "signature:"...)
	b = append(b, sig...)
	b = append(b, '\n')
	return sha256.Sum256(b)
}

// hashBufSize is the stack buffer of hashOf and of a block's check: a
// transfer between RSA-4096 wallets (the largest keys allowed) fits.
const hashBufSize = 4096

// Size is the transaction's size for block and mempool limits: its
// signing bytes plus its signature.
// It is counted, not built: the mempool asks it at each admission.
func (tx *Tx) Size() int {
	var c Card
	if tx.Card != nil {
		c = *tx.Card
	}
	var num [20]byte
	line := func(name string, v int) int { return len(name) + 1 + v + 1 } // as SigningBytes' lines
	n := len(SigningVersion) + 1 +
		line("type", len(tx.Type)) + line("id", len(tx.ID)) + line("from", len(tx.From)) + line("to", len(tx.To)) +
		line("amount", len(strconv.AppendInt(num[:0], tx.Amount, 10))) + line("fee", len(strconv.AppendInt(num[:0], tx.Fee, 10))) +
		line("card_masked", len(c.Masked)) + line("card_expiry", len(c.Expiry))
	return n + len(tx.Signature) + len("signature:\n")
}

func sizeOf(msg []byte, sig string) int { return len(msg) + len(sig) + len("signature:\n") }

// Sign sets the signature with the sender's key.
func (tx *Tx) Sign(k *rsa.PrivateKey) error {
	sig, err := SignBytes(k, tx.SigningBytes())
	if err != nil {
		return err
	}
	tx.Signature = sig
	tx.signed = nil
	if from, err := ParseAddress(tx.From); err == nil && from.Equal(&k.PublicKey) {
		h := tx.Hash()
		tx.signed = &h
	}
	return nil
}

// signedAs reports whether Sign made the signature of the content whose
// Hash is h, with the key of From (see Tx.signed).
func (tx *Tx) signedAs(h Hash) bool { return tx.signed != nil && *tx.signed == h }

// NewTxID returns a fresh lowercase canonical UUID.
func NewTxID() string { return uuid.NewString() }

// NewTransfer builds and signs a transfer. An empty id gets a new UUID.
func NewTransfer(k *rsa.PrivateKey, to Address, amount, fee int64, id string) (Tx, error) {
	if id == "" {
		id = NewTxID()
	}
	tx := Tx{Type: TxTransfer, ID: id, From: AddressOf(&k.PublicKey), To: to, Amount: amount, Fee: fee}
	return tx, tx.Sign(k)
}

// NewMint builds and signs a card purchase crediting the key's own wallet.
func NewMint(k *rsa.PrivateKey, card Card, amount, fee int64, id string) (Tx, error) {
	if id == "" {
		id = NewTxID()
	}
	a := AddressOf(&k.PublicKey)
	tx := Tx{Type: TxMint, ID: id, From: a, To: a, Amount: amount, Fee: fee, Card: &card}
	return tx, tx.Sign(k)
}

// RewardID is the id of the reward of the block at height whose previous
// block is prev: the name-based UUID, version 5 (SHA-1), in the nil
// namespace, of "pycotr-reward-v1\n" ‖ decimal height ‖ "\n" ‖ lowercase
// hex of prev ‖ "\n". The block fixes it, so a miner cannot give its
// reward the id of anyone's transaction, and two rewards of one branch
// never share an id. (The genesis transaction's id is derived from the
// genesis message instead: docs/PROTOCOL.md §9.)
func RewardID(height uint64, prev Hash) string {
	name := "pycotr-reward-v1\n" + strconv.FormatUint(height, 10) + "\n" + prev.String() + "\n"
	return uuid.NewSHA1(uuid.Nil, []byte(name)).String()
}

// NewReward builds the coinbase of the block at height after prev, paying
// amount to the miner.
func NewReward(height uint64, prev Hash, miner Address, amount int64) Tx {
	return Tx{Type: TxReward, ID: RewardID(height, prev), To: miner, Amount: amount}
}

// debit returns what the transaction takes from its sender's balance.
func (tx *Tx) debit() int64 {
	switch tx.Type {
	case TxTransfer:
		return tx.Amount + tx.Fee
	case TxMint:
		return tx.Fee
	}
	return 0
}
