// Package wallet is the command-line wallet's key file: named RSA keys kept
// in one JSON file readable only by its owner (mode 0600), written whole to
// a temporary file and renamed over the old one, so a crash never leaves
// half a file. A Wallet value carries a name and an address, never the key:
// the key leaves the store only through Key (to sign) and ExportKey (the
// one command that prints it). It imports chain and the standard library,
// nothing that talks to a network.
package wallet

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// EnvFile names the variable that overrides the wallet file's location.
const EnvFile = "PYCOTR_WALLET_FILE"

// fileVersion is the format version written in the file.
const fileVersion = 1

// Errors callers branch on.
var (
	ErrNotFound  = errors.New("no such wallet")
	ErrNameTaken = errors.New("wallet name already taken")
	ErrBadName   = errors.New("bad wallet name")
	ErrExposed   = errors.New("wallet file readable by others")
)

// Wallet is a named key's public side.
type Wallet struct {
	Name    string        `json:"name"`
	Address chain.Address `json:"address"`
	Created time.Time     `json:"created"`
}

// entry is a wallet as stored: its public side and its key.
type entry struct {
	Wallet
	PrivateKey string `json:"private_key"` // hex DER PKCS#1, as chain.EncodePrivateKey
}

// fileForm is the file's JSON.
type fileForm struct {
	Version int     `json:"version"`
	Wallets []entry `json:"wallets"`
}

// Store is a loaded wallet file. It is not safe for concurrent use; each
// command loads it, changes it and saves it.
type Store struct {
	path    string
	entries []entry
}

// DefaultPath is $PYCOTR_WALLET_FILE, or pycotr/wallet.json under the
// user's configuration directory (os.UserConfigDir).
func DefaultPath() (string, error) {
	if p := os.Getenv(EnvFile); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the wallet file (set %s): %w", EnvFile, err)
	}
	return filepath.Join(dir, "pycotr", "wallet.json"), nil
}

// Open loads the wallet file at path; a missing file is an empty store
// (created by the first Save). A file that others may read is refused.
func Open(path string) (*Store, error) {
	s := &Store{path: path}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read wallet file: %w", err)
	}
	if err := checkMode(path); err != nil {
		return nil, err
	}
	var f fileForm
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("wallet file %s: %w", path, err)
	}
	if f.Version != fileVersion {
		return nil, fmt.Errorf("wallet file %s: version %d, want %d", path, f.Version, fileVersion)
	}
	for _, e := range f.Wallets {
		if err := checkName(e.Name); err != nil {
			return nil, fmt.Errorf("wallet file %s: %w", path, err)
		}
		if s.index(e.Name) >= 0 {
			return nil, fmt.Errorf("wallet file %s: %q twice: %w", path, e.Name, ErrNameTaken)
		}
		s.entries = append(s.entries, e)
	}
	return s, nil
}

// checkMode refuses a wallet file that its group or others may use, as
// ssh refuses such a key (not on Windows, where modes mean little).
func checkMode(path string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("stat wallet file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o; run chmod 600 %s: %w", path, perm, path, ErrExposed)
	}
	return nil
}

// Path is the file the store was loaded from and saves to.
func (s *Store) Path() string { return s.path }

// Save writes the store: a temporary file of mode 0600 in the same
// directory (made 0700 if missing), synced, then renamed over the file.
func (s *Store) Save() error {
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make wallet directory: %w", err)
	}
	data, err := json.MarshalIndent(fileForm{Version: fileVersion, Wallets: s.entries}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode wallet file: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".wallet-*.tmp") // CreateTemp makes it 0600
	if err != nil {
		return fmt.Errorf("write wallet file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("write wallet file: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write wallet file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write wallet file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write wallet file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("write wallet file: %w", err)
	}
	return nil
}

// nameRE is what a wallet name may be: short, no spaces, not starting with
// a dash (it would read as a flag).
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("%q: want 1 to 32 letters, digits, '_', '.' or '-', not starting with '-' or '.': %w", name, ErrBadName)
	}
	if name == "help" || looksLikeAddress(name) {
		return fmt.Errorf("%q is reserved: %w", name, ErrBadName)
	}
	return nil
}

// looksLikeAddress reports whether s may be an address rather than a
// name: long hex (an RSA-1024 address has over 300 digits; names have 32
// characters at most).
func looksLikeAddress(s string) bool {
	if len(s) < 64 {
		return false
	}
	return strings.Trim(strings.ToLower(s), "0123456789abcdef") == ""
}

func (s *Store) index(name string) int {
	return slices.IndexFunc(s.entries, func(e entry) bool { return e.Name == name })
}

// Add stores a key under a new name and returns its wallet. The store is
// not saved.
func (s *Store) Add(name string, k *rsa.PrivateKey, now time.Time) (Wallet, error) {
	if err := checkName(name); err != nil {
		return Wallet{}, err
	}
	if s.index(name) >= 0 {
		return Wallet{}, fmt.Errorf("%q: %w", name, ErrNameTaken)
	}
	addr := chain.AddressOf(&k.PublicKey)
	if other, ok := s.NameOf(addr); ok {
		return Wallet{}, fmt.Errorf("this key is already wallet %q: %w", other, ErrNameTaken)
	}
	w := Wallet{Name: name, Address: addr, Created: now.UTC().Truncate(time.Second)}
	s.entries = append(s.entries, entry{Wallet: w, PrivateKey: chain.EncodePrivateKey(k)})
	return w, nil
}

// NextName returns the first free name of the form wallet-N.
func (s *Store) NextName() string {
	for n := len(s.entries) + 1; ; n++ {
		if name := fmt.Sprintf("wallet-%d", n); s.index(name) < 0 {
			return name
		}
	}
}

// List returns the wallets in the order they were made.
func (s *Store) List() []Wallet {
	out := make([]Wallet, len(s.entries))
	for i, e := range s.entries {
		out[i] = e.Wallet
	}
	return out
}

// Get returns the wallet of a name.
func (s *Store) Get(name string) (Wallet, error) {
	i := s.index(name)
	if i < 0 {
		return Wallet{}, fmt.Errorf("%q (see `pycotr wallet list`): %w", name, ErrNotFound)
	}
	return s.entries[i].Wallet, nil
}

// NameOf returns the name of the wallet with this address, if it is ours.
func (s *Store) NameOf(a chain.Address) (string, bool) {
	for _, e := range s.entries {
		if e.Address == a {
			return e.Name, true
		}
	}
	return "", false
}

// Resolve reads a wallet name or an address: a name of this store gives
// its address, anything that looks like an address is taken as one.
func (s *Store) Resolve(nameOrAddress string) (chain.Address, error) {
	if i := s.index(nameOrAddress); i >= 0 {
		return s.entries[i].Address, nil
	}
	if looksLikeAddress(nameOrAddress) {
		a := chain.Address(strings.ToLower(nameOrAddress))
		if _, err := chain.ParseAddress(a); err != nil {
			return "", fmt.Errorf("address %s: %w", shortText(nameOrAddress), err)
		}
		return a, nil
	}
	return "", fmt.Errorf("%q is neither a wallet name (see `pycotr wallet list`) nor an address: %w", nameOrAddress, ErrNotFound)
}

// Key returns the private key of a wallet, to sign with.
func (s *Store) Key(name string) (*rsa.PrivateKey, error) {
	i := s.index(name)
	if i < 0 {
		return nil, fmt.Errorf("%q (see `pycotr wallet list`): %w", name, ErrNotFound)
	}
	k, err := chain.ParsePrivateKey(s.entries[i].PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("wallet %q in %s: %w", name, s.path, err)
	}
	return k, nil
}

// ExportKey returns a wallet's private key in its hex text form, for
// `pycotr wallet export` only.
func (s *Store) ExportKey(name string) (string, error) {
	k, err := s.Key(name)
	if err != nil {
		return "", err
	}
	return chain.EncodePrivateKey(k), nil
}

func shortText(s string) string {
	if len(s) <= 16 {
		return s
	}
	return s[:8] + "…" + s[len(s)-8:]
}
