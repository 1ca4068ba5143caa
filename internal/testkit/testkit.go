// Package testkit holds the helpers Pycotr's tests share: waiting on a
// condition or a channel with a deadline (never a fixed sleep), checking
// that no goroutine outlives a test, and a pool of RSA keys made once per
// test binary. It imports only the standard library and internal/wait, so
// any package's tests may use it.
package testkit

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pycotr/pycotr/internal/wait"
)

// Eventually polls cond until it holds, failing the test with what if the
// deadline passes first.
func Eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if !wait.For(context.Background(), within, 5*time.Millisecond, cond) {
		t.Fatalf("not within %s: %s", within, what)
	}
}

// Receive reads ch until want accepts a value and returns it, failing the
// test if ch closes or the deadline passes first.
func Receive[T any](t testing.TB, ch <-chan T, within time.Duration, what string, want func(T) bool) T {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case v, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for %s", what)
			}
			if want(v) {
				return v
			}
		case <-timeout:
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

// CheckGoroutines fails the test if, once its later cleanups (nodes,
// servers) have run, more goroutines remain than when it was called.
func CheckGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

var keys = sync.OnceValue(func() []*rsa.PrivateKey {
	ks := make([]*rsa.PrivateKey, 8)
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 1024)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// Key returns one of eight 1024-bit RSA keys (the smallest the chain
// accepts, and quick to make), made once per test binary; i wraps around.
func Key(i int) *rsa.PrivateKey {
	ks := keys()
	return ks[i%len(ks)]
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now, for
// a process or server a test starts with an explicit port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreePorts returns the first of n consecutive TCP ports on 127.0.0.1 that
// nothing listens on now (for `pycotr up --base-port`, which takes one port
// per node), trying other ranges when one is partly taken.
func FreePorts(t testing.TB, n int) int {
	t.Helper()
	for range 50 {
		base, free := FreePort(t), true
		for i := 1; i < n && free; i++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(base+i)))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports on 127.0.0.1", n)
	return 0
}
