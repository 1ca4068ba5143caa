package genesis

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"math/big"
	"time"

	"github.com/google/uuid"

	"github.com/pycotr/pycotr/chain"
)

// The genesis block holds one transaction, as the original's did (amount 0,
// from the network's reward key to itself): a reward of 0 to the network
// address. It mints nothing, so the ledger invariant holds from block 0, and
// a fresh network already lists one wallet (`GET /get_wallets`) and shows a
// transaction in block 0. Everything in it is derived from the genesis
// message (docs/PROTOCOL.md §9), so the file is reproducible and nobody
// chose the address.

// addressLabel starts the bytes the network address's modulus is hashed
// from; a new derivation would take a new label.
const addressLabel = "pycotr-genesis-address-v1\n"

// NetworkAddress is the address the genesis transaction pays: the RSA public
// key (e = 65537) whose 2048-bit modulus is the eight SHA-256 blocks
// SHA-256(label ‖ message ‖ i), i = 0…7 as 4 big-endian bytes, concatenated,
// with the top two bits and the lowest bit set. The modulus is made, not
// generated from primes, so nobody knows a private key for it: the address
// can receive but never sign.
func NetworkAddress(message string) chain.Address {
	n := make([]byte, 0, 256)
	for i := range uint32(8) {
		h := sha256.New()
		h.Write([]byte(addressLabel))
		h.Write([]byte(message))
		h.Write(binary.BigEndian.AppendUint32(nil, i))
		n = h.Sum(n)
	}
	n[0] |= 0xc0
	n[len(n)-1] |= 1
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537})
	if err != nil {
		panic("genesis: encode the network address: " + err.Error()) // a fixed-size, well-formed key
	}
	return chain.Address(hex.EncodeToString(der))
}

// TxID is the genesis transaction's id: the name-based UUID (version 5,
// RFC 9562) of the genesis message in the nil namespace.
func TxID(message string) string { return uuid.NewSHA1(uuid.Nil, []byte(message)).String() }

// Tx is the genesis block's one transaction: a reward of amount 0, fee 0,
// to NetworkAddress, with id TxID. Only the genesis block may hold a
// reward of 0; every block after it follows the rules of §5.
func Tx(p chain.Params) chain.Tx {
	return chain.Tx{Type: chain.TxReward, ID: TxID(p.GenesisMessage), To: NetworkAddress(p.GenesisMessage)}
}

// unsolvedBlock is the genesis block of a network with params p at time t,
// before its proof-of-work: height 0, zero previous hash, the genesis
// transaction and its merkle root.
func unsolvedBlock(p chain.Params, t time.Time) chain.Block {
	b := chain.Block{Txs: []chain.Tx{Tx(p)}, Header: chain.Header{
		Version: chain.BlockVersion, Timestamp: t.UnixMilli(), Bits: p.Bits,
	}}
	b.Header.MerkleRoot = b.ComputeMerkleRoot()
	return b
}
