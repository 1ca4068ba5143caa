package wallet

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pycotr/pycotr/chain"
	"github.com/pycotr/pycotr/internal/testkit"
)

func TestSaveOpenRoundTripIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cfg", "pycotr", "wallet.json")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := s.Add("alice", testkit.Key(0), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("bob", testkit.Key(1), time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("wallet file mode %04o, want 0600", st.Mode().Perm())
		}
		dir, _ := os.Stat(filepath.Dir(path))
		if dir.Mode().Perm() != 0o700 {
			t.Errorf("wallet directory mode %04o, want 0700", dir.Mode().Perm())
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".wallet-*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.List(); len(got) != 2 || got[0].Name != "alice" || got[1].Name != "bob" || got[0].Address != alice.Address {
		t.Fatalf("reloaded wallets = %+v", got)
	}
	k, err := again.Key("alice")
	if err != nil {
		t.Fatal(err)
	}
	if chain.AddressOf(&k.PublicKey) != alice.Address {
		t.Fatal("reloaded key does not match its address")
	}
}

func TestNamesAreUniqueAndChecked(t *testing.T) {
	s, _ := Open(filepath.Join(t.TempDir(), "w.json"))
	if _, err := s.Add("alice", testkit.Key(0), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("alice", testkit.Key(1), time.Now()); !errors.Is(err, ErrNameTaken) {
		t.Errorf("same name twice: %v, want ErrNameTaken", err)
	}
	if _, err := s.Add("alice2", testkit.Key(0), time.Now()); !errors.Is(err, ErrNameTaken) {
		t.Errorf("same key twice: %v, want ErrNameTaken", err)
	}
	for _, bad := range []string{"", "-x", ".hidden", "with space", "help", strings.Repeat("a", 33), strings.Repeat("ab", 40)} {
		if _, err := s.Add(bad, testkit.Key(2), time.Now()); !errors.Is(err, ErrBadName) {
			t.Errorf("name %q: %v, want ErrBadName", bad, err)
		}
	}
	if got := s.NextName(); got != "wallet-2" {
		t.Errorf("NextName = %q", got)
	}
}

func TestResolveNameOrAddress(t *testing.T) {
	s, _ := Open(filepath.Join(t.TempDir(), "w.json"))
	w, _ := s.Add("alice", testkit.Key(0), time.Now())
	other := chain.AddressOf(&testkit.Key(3).PublicKey)
	cases := []struct {
		in   string
		want chain.Address
		err  bool
	}{
		{"alice", w.Address, false},
		{string(other), other, false},
		{strings.ToUpper(string(other)), other, false},
		{"carol", "", true},
		{strings.Repeat("ab", 40), "", true}, // hex, but not a key
	}
	for _, c := range cases {
		got, err := s.Resolve(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("Resolve(%.20q) = %.20q, %v", c.in, got, err)
		}
	}
}

func TestOpenRefusesAFileOthersCanRead(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("modes mean little on Windows")
	}
	path := filepath.Join(t.TempDir(), "w.json")
	s, _ := Open(path)
	s.Add("alice", testkit.Key(0), time.Now())
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrExposed) {
		t.Fatalf("Open of a 0644 file: %v, want ErrExposed", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv(EnvFile, "/tmp/x/w.json")
	if p, _ := DefaultPath(); p != "/tmp/x/w.json" {
		t.Errorf("with %s set: %q", EnvFile, p)
	}
	t.Setenv(EnvFile, "")
	p, err := DefaultPath()
	if err == nil && !strings.HasSuffix(p, filepath.Join("pycotr", "wallet.json")) {
		t.Errorf("default path %q", p)
	}
}
