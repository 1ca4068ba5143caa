package services

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/pycotr/pycotr/chain"
)

// Store keeps a node's blocks, pending transactions and identity on disk
// (PYCOTR_DATA_DIR), in a bbolt file: every write is one fsynced
// transaction, so a crash at any moment leaves either the whole write or
// none of it. The chain state is
// not stored: it is rebuilt at start-up by replaying the blocks through
// ProcessBlock, which re-checks every rule, so the store opens to a valid
// chain whatever happened to the process.
type Store struct {
	db *bolt.DB
}

var (
	bucketMeta   = []byte("meta")
	bucketBlocks = []byte("blocks") // key: height (8 bytes BE) + hash; value: block JSON
	// bucketPending holds the mempool: key: Tx.Hash; value: arrival time
	// (8 bytes BE, Unix ns) + the transaction's JSON.
	bucketPending = []byte("pending")
	keyNodeID     = []byte("node_id")
	keyGenesis    = []byte("genesis")
)

// OpenStore opens (or creates) the store in dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	db, err := bolt.Open(filepath.Join(dir, "pycotr.db"), 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketBlocks, bucketPending} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("init store: %w", err)
	}
	return &Store{db: db}, nil
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Identity returns the stored node id and checks the genesis hash; on
// first use it stores the given ones (an empty id gets a new UUID).
func (s *Store) Identity(id string, genesisHash chain.Hash) (string, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if g := m.Get(keyGenesis); g != nil && string(g) != genesisHash.String() {
			return fmt.Errorf("store belongs to another network (genesis %s, want %s)", string(g), genesisHash)
		}
		if v := m.Get(keyNodeID); v != nil {
			id = string(v)
			return nil
		}
		if id == "" {
			id = uuid.NewString()
		}
		if err := m.Put(keyGenesis, []byte(genesisHash.String())); err != nil {
			return err
		}
		return m.Put(keyNodeID, []byte(id))
	})
	return id, err
}

func blockKey(b *chain.Block) []byte {
	k := make([]byte, 8, 40)
	binary.BigEndian.PutUint64(k, b.Header.Height)
	h := b.Hash()
	return append(k, h[:]...)
}

// PutBlocks stores blocks in one transaction (idempotent).
func (s *Store) PutBlocks(bs []*chain.Block) error { return s.Write(bs, nil, nil) }

// Write stores blocks, stores pending transactions (put) and forgets
// pending ones by hash (del), in that order, in one fsynced transaction.
// Every part is idempotent.
func (s *Store) Write(bs []*chain.Block, put []chain.Tx, del []chain.Hash) error {
	now := time.Now().UnixNano()
	return s.db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketBlocks)
		for _, b := range bs {
			data, err := json.Marshal(b)
			if err != nil {
				return err
			}
			if err := bk.Put(blockKey(b), data); err != nil {
				return err
			}
		}
		pk := tx.Bucket(bucketPending)
		for i := range put {
			h := put[i].Hash()
			data, err := json.Marshal(&put[i])
			if err != nil {
				return err
			}
			// Arrival order within the batch is put's order.
			v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(data)), uint64(now+int64(i)))
			if err := pk.Put(h[:], append(v, data...)); err != nil {
				return err
			}
		}
		for _, h := range del {
			if err := pk.Delete(h[:]); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutPending stores pending transactions in one transaction.
func (s *Store) PutPending(txs []chain.Tx) error { return s.Write(nil, txs, nil) }

// DeletePending forgets pending transactions by hash.
func (s *Store) DeletePending(hashes []chain.Hash) error { return s.Write(nil, nil, hashes) }

// StoredTx is a pending transaction read back from the store.
type StoredTx struct {
	Tx      chain.Tx
	Hash    chain.Hash // the key it was stored under
	Arrived time.Time
}

// Pending returns the stored pending transactions in arrival order. The
// keys of entries that do not decode, or whose key is not their hash, are
// listed in damaged, to be deleted.
func (s *Store) Pending() (txs []StoredTx, damaged []chain.Hash, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(k, v []byte) error {
			var h chain.Hash
			copy(h[:], k)
			var st StoredTx
			if len(k) != len(h) || len(v) < 8 || json.Unmarshal(v[8:], &st.Tx) != nil || st.Tx.Hash() != h {
				damaged = append(damaged, h)
				return nil
			}
			st.Hash = h
			st.Arrived = time.Unix(0, int64(binary.BigEndian.Uint64(v[:8])))
			txs = append(txs, st)
			return nil
		})
	})
	slices.SortStableFunc(txs, func(a, b StoredTx) int { return a.Arrived.Compare(b.Arrived) })
	return txs, damaged, err
}

// ErrCorruptBlock marks a stored block that does not decode or whose key
// does not match its content; replay stops before it.
var ErrCorruptBlock = errors.New("corrupt stored block")

// Blocks calls fn for every stored block in height order.
func (s *Store) Blocks(fn func(*chain.Block) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlocks).ForEach(func(k, v []byte) error {
			var b chain.Block
			if err := json.Unmarshal(v, &b); err != nil || string(blockKey(&b)) != string(k) {
				return fmt.Errorf("block at key %x: %w", k, ErrCorruptBlock)
			}
			return fn(&b)
		})
	})
}
