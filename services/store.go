package services

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"github.com/pycotr/pycotr/chain"
)

// Store keeps a node's blocks and identity on disk (PYCOTR_DATA_DIR), in a
// bbolt file: every write is one fsynced transaction, so a crash at any
// moment leaves either the whole block or none of it. The chain state is
// not stored: it is rebuilt at start-up by replaying the blocks through
// ProcessBlock, which re-checks every rule, so the store opens to a valid
// chain whatever happened to the process.
type Store struct {
	db *bolt.DB
}

var (
	bucketMeta   = []byte("meta")
	bucketBlocks = []byte("blocks") // key: height (8 bytes BE) + hash; value: block JSON
	keyNodeID    = []byte("node_id")
	keyGenesis   = []byte("genesis")
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
		for _, b := range [][]byte{bucketMeta, bucketBlocks} {
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
func (s *Store) PutBlocks(bs []*chain.Block) error {
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
		return nil
	})
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
