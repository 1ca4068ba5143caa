package events

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/pycotr/pycotr/internal/testkit"
	"github.com/pycotr/pycotr/internal/wait"
)

// The credentials a node can present, each against a real standalone
// nats-server process (built from the nats-server module this project pins)
// configured to require it: the right one connects and carries messages, a
// wrong one fails at once with ErrAuth or ErrTLS instead of retrying for ever.

var natsServerBin = struct {
	once sync.Once
	path string
	err  error
}{}

// natsServerBinary builds the nats-server command of the pinned module once
// per test binary.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	natsServerBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "pycotr-nats-server-")
		if err != nil {
			natsServerBin.err = err
			return
		}
		natsServerBin.path = filepath.Join(dir, "nats-server")
		out, err := exec.Command("go", "build", "-o", natsServerBin.path, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			natsServerBin.err = fmt.Errorf("go build nats-server: %v\n%s", err, out)
		}
	})
	if natsServerBin.err != nil {
		t.Fatal(natsServerBin.err)
	}
	return natsServerBin.path
}

// startNATSProcess runs nats-server with conf (a config file body; the
// listen address is added) and returns its client address once it listens.
func startNATSProcess(t *testing.T, conf string) string {
	t.Helper()
	bin := natsServerBinary(t)
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	path := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte("listen: "+addr+"\n"+conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", path)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	up := wait.For(context.Background(), 10*time.Second, 20*time.Millisecond, func() bool {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	if !up {
		t.Fatalf("nats-server did not listen on %s:\n%s", addr, logs.String())
	}
	return addr
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// connectWith connects two buses with auth to url and proves the server
// carries a message from one to the other (a bus does not hear itself).
func connectWith(t *testing.T, url string, auth ClientAuth) error {
	t.Helper()
	var buses []*Bus
	defer func() {
		for _, b := range buses {
			b.Close()
		}
	}()
	for range 2 {
		b, err := Connect(BusConfig{Servers: []string{url}, Auth: auth, Name: "auth-test"})
		if err != nil {
			return err
		}
		buses = append(buses, b)
	}
	sub, err := buses[0].nc.SubscribeSync("pycotr.auth-test")
	if err != nil {
		return err
	}
	if err := buses[0].nc.Flush(); err != nil {
		return err
	}
	if err := buses[1].nc.Publish("pycotr.auth-test", []byte("hi")); err != nil {
		return err
	}
	if _, err := sub.NextMsg(5 * time.Second); err != nil {
		return fmt.Errorf("no message through the server: %w", err)
	}
	return nil
}

func TestClientAuthAgainstNATSServer(t *testing.T) {
	// NKey user.
	nkUser, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	nkPub, _ := nkUser.PublicKey()
	nkSeed, _ := nkUser.Seed()
	otherUser, _ := nkeys.CreateUser()
	otherSeed, _ := otherUser.Seed()

	// Operator mode: operator → account → user, as `nsc` makes them.
	creds, wrongCreds, operatorConf := jwtSetup(t)

	// TLS: a CA made here, a server certificate for 127.0.0.1, a client
	// certificate for mutual TLS, and an unrelated CA.
	pki := newTestPKI(t)

	cases := []struct {
		name       string
		conf       string
		scheme     string
		good, bad  ClientAuth
		wantBadErr error
	}{
		{"token", "authorization { token: s3cret-token }\n", "nats",
			ClientAuth{Token: "s3cret-token"}, ClientAuth{Token: "wrong"}, ErrAuth},
		{"user-password", "authorization { user: node1, password: pa55word }\n", "nats",
			ClientAuth{User: "node1", Password: "pa55word"}, ClientAuth{User: "node1", Password: "nope"}, ErrAuth},
		{"nkey", fmt.Sprintf("authorization { users = [ { nkey: %s } ] }\n", nkPub), "nats",
			ClientAuth{NKeySeedFile: writeFile(t, "user.nk", string(nkSeed))},
			ClientAuth{NKeySeedFile: writeFile(t, "other.nk", string(otherSeed))}, ErrAuth},
		{"creds", operatorConf, "nats",
			ClientAuth{CredsFile: writeFile(t, "user.creds", creds)},
			ClientAuth{CredsFile: writeFile(t, "wrong.creds", wrongCreds)}, ErrAuth},
		{"tls-ca", pki.serverConf(false), "tls",
			ClientAuth{TLSCA: pki.caFile}, ClientAuth{TLSCA: pki.otherCAFile}, ErrTLS},
		{"mutual-tls", pki.serverConf(true), "tls",
			ClientAuth{TLSCA: pki.caFile, TLSCert: pki.clientCert, TLSKey: pki.clientKey},
			ClientAuth{TLSCA: pki.caFile}, ErrTLS},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.scheme + "://" + startNATSProcess(t, tc.conf)
			if err := connectWith(t, url, tc.good); err != nil {
				t.Fatalf("the right credentials: %v", err)
			}
			// A refused client certificate shows only after TLS 1.3's
			// handshake, so on a starved machine the client may first
			// see a time-out instead of the server's alert: a time-out
			// is tried again (at most twice), any other answer is final.
			var err error
			for try := 0; try < 3; try++ {
				start := time.Now()
				err = connectWith(t, url, tc.bad)
				if errors.Is(err, tc.wantBadErr) {
					if el := time.Since(start); el > 5*time.Second {
						t.Errorf("the refusal took %s: it should not retry", el)
					}
					break
				}
				if err == nil || !errors.Is(err, nats.ErrTimeout) {
					break
				}
				t.Logf("try %d timed out: %v", try+1, err)
			}
			if !errors.Is(err, tc.wantBadErr) {
				t.Fatalf("wrong credentials: err = %v, want %v", err, tc.wantBadErr)
			}
			if strings.Contains(err.Error(), "pa55word") || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows a secret: %v", err)
			}
			if err := connectWith(t, url, ClientAuth{}); err == nil {
				t.Error("no credentials at all were accepted")
			}
		})
	}
}

func jwtSetup(t *testing.T) (creds, wrongCreds, conf string) {
	t.Helper()
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	op, _ := nkeys.CreateOperator()
	opPub, _ := op.PublicKey()
	opJWT := must(jwt.NewOperatorClaims(opPub).Encode(op))
	acc, _ := nkeys.CreateAccount()
	accPub, _ := acc.PublicKey()
	accJWT := must(jwt.NewAccountClaims(accPub).Encode(op))
	user := func(signer nkeys.KeyPair) string {
		u, _ := nkeys.CreateUser()
		uPub, _ := u.PublicKey()
		uJWT := must(jwt.NewUserClaims(uPub).Encode(signer))
		seed, _ := u.Seed()
		c, err := jwt.FormatUserConfig(uJWT, seed)
		if err != nil {
			t.Fatal(err)
		}
		return string(c)
	}
	stranger, _ := nkeys.CreateAccount() // an account the operator never signed
	conf = fmt.Sprintf("operator: %s\nresolver: MEMORY\nresolver_preload: { %s: %s }\n",
		writeFile(t, "op.jwt", opJWT), accPub, accJWT)
	return user(acc), user(stranger), conf
}

type testPKI struct {
	caFile, otherCAFile   string
	serverCert, serverKey string
	clientCert, clientKey string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	ca, caKey := makeCert(t, "pycotr test CA", nil, nil, true, nil)
	other, _ := makeCert(t, "another CA", nil, nil, true, nil)
	srv, srvKey := makeCert(t, "nats server", ca, caKey, false, []net.IP{net.ParseIP("127.0.0.1")})
	cli, cliKey := makeCert(t, "pycotr node", ca, caKey, false, nil)
	return testPKI{
		caFile: writeFile(t, "ca.pem", pemCert(ca)), otherCAFile: writeFile(t, "other-ca.pem", pemCert(other)),
		serverCert: writeFile(t, "server.pem", pemCert(srv)), serverKey: writeFile(t, "server.key", pemKey(t, srvKey)),
		clientCert: writeFile(t, "client.pem", pemCert(cli)), clientKey: writeFile(t, "client.key", pemKey(t, cliKey)),
	}
}

func (p testPKI) serverConf(verify bool) string {
	return fmt.Sprintf("tls { cert_file: %q, key_file: %q, ca_file: %q, verify: %v }\n",
		p.serverCert, p.serverKey, p.caFile, verify)
}

func makeCert(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, isCA bool, ips []net.IP) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:        isCA, BasicConstraintsValid: true, IPAddresses: ips,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func pemKey(t *testing.T, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
}

// TestEmbeddedServerAuth: the embedded server requires its token or user
// and password of every client, its own node's in-process connection
// included, and refuses to listen beyond loopback without either.
func TestEmbeddedServerAuth(t *testing.T) {
	if _, err := StartServer(ServerConfig{Listen: "0.0.0.0:0"}); err == nil || !strings.Contains(err.Error(), "PYCOTR_NATS_SERVER_TOKEN") {
		t.Fatalf("an open server on all interfaces: err = %v", err)
	}
	if _, err := StartServer(ServerConfig{Listen: "127.0.0.1:0", Token: "a", User: "b", Password: "c"}); err == nil {
		t.Fatal("token and user together were accepted")
	}
	for _, cfg := range []ServerConfig{
		{Listen: "0.0.0.0:0", Token: "tok3n"},
		{Listen: "127.0.0.1:0", User: "pycotr", Password: "pa55"},
	} {
		srv, err := StartServer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		b, err := Connect(BusConfig{Embedded: srv, Name: "in-process"})
		if err != nil {
			t.Fatalf("the node's own in-process connection: %v", err)
		}
		b.Close()
		url := strings.Replace(srv.ClientURL(), "0.0.0.0", "127.0.0.1", 1)
		good := ClientAuth{Token: cfg.Token, User: cfg.User, Password: cfg.Password}
		if err := connectWith(t, url, good); err != nil {
			t.Fatalf("the server's credentials: %v", err)
		}
		if err := connectWith(t, url, ClientAuth{Token: "guess"}); !errors.Is(err, ErrAuth) {
			t.Fatalf("a wrong token: err = %v, want ErrAuth", err)
		}
	}
}

func TestClientAuthCheck(t *testing.T) {
	seed := writeFile(t, "seed", "x")
	for _, tc := range []struct {
		auth ClientAuth
		want string
	}{
		{ClientAuth{User: "u", Token: "t"}, "not several"},
		{ClientAuth{Password: "p"}, "PYCOTR_NATS_PASSWORD needs PYCOTR_NATS_USER"},
		{ClientAuth{TLSCert: seed}, "go together"},
		{ClientAuth{CredsFile: "/no/such/file"}, "PYCOTR_NATS_CREDS"},
		{ClientAuth{TLSCA: "/no/such/ca"}, "PYCOTR_NATS_TLS_CA"},
	} {
		if err := tc.auth.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err = %v, want %q", tc.auth, err, tc.want)
		}
	}
	if err := (ClientAuth{User: "u", Password: "p", TLSCA: seed}).Check(); err != nil {
		t.Errorf("a good setting refused: %v", err)
	}
}
