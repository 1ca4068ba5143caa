package events

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/nats-io/nats.go"
)

// ClientAuth is how a node proves who it is to a NATS server, and how it
// checks the server, on a shared cluster: at most one of user and
// password, a token, an NKey seed file or a JWT creds file, and
// optionally TLS (a CA to trust, a client certificate and key). Each field
// is named after the setting that fills it (PYCOTR_NATS_USER, ...), so
// errors can say which one is at fault.
type ClientAuth struct {
	User         string
	Password     string
	Token        string
	NKeySeedFile string
	CredsFile    string
	TLSCA        string // PEM file of the CA that signed the server's certificate
	TLSCert      string // PEM client certificate (mutual TLS), with TLSKey
	TLSKey       string
}

// ErrAuth marks a connection the server refused for its credentials.
var ErrAuth = errors.New("nats: credentials refused")

// ErrTLS marks a connection whose TLS handshake failed: the server's
// certificate did not verify, or it refused the client's.
var ErrTLS = errors.New("nats: TLS handshake failed")

// Setting names the one setting of a that identifies the client, as the
// PYCOTR_ variable that sets it; "" when a sends no credentials.
func (a ClientAuth) Setting() string {
	switch {
	case a.User != "":
		return "PYCOTR_NATS_USER/PYCOTR_NATS_PASSWORD"
	case a.Token != "":
		return "PYCOTR_NATS_TOKEN"
	case a.NKeySeedFile != "":
		return "PYCOTR_NATS_NKEY_SEED_FILE"
	case a.CredsFile != "":
		return "PYCOTR_NATS_CREDS"
	}
	return ""
}

// Check refuses contradictory or incomplete settings and files that
// cannot be read, naming the setting at fault.
func (a ClientAuth) Check() error {
	methods := 0
	for _, set := range []bool{a.User != "", a.Token != "", a.NKeySeedFile != "", a.CredsFile != ""} {
		if set {
			methods++
		}
	}
	switch {
	case methods > 1:
		return errors.New("set one of PYCOTR_NATS_USER, PYCOTR_NATS_TOKEN, PYCOTR_NATS_NKEY_SEED_FILE and PYCOTR_NATS_CREDS, not several")
	case a.Password != "" && a.User == "":
		return errors.New("PYCOTR_NATS_PASSWORD needs PYCOTR_NATS_USER")
	case (a.TLSCert == "") != (a.TLSKey == ""):
		return errors.New("PYCOTR_NATS_TLS_CERT and PYCOTR_NATS_TLS_KEY go together")
	}
	files := []struct{ name, path string }{
		{"PYCOTR_NATS_NKEY_SEED_FILE", a.NKeySeedFile}, {"PYCOTR_NATS_CREDS", a.CredsFile},
		{"PYCOTR_NATS_TLS_CA", a.TLSCA}, {"PYCOTR_NATS_TLS_CERT", a.TLSCert}, {"PYCOTR_NATS_TLS_KEY", a.TLSKey},
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if _, err := os.ReadFile(f.path); err != nil {
			return fmt.Errorf("bad %s: %w", f.name, err)
		}
	}
	return nil
}

// options turns a into nats.go connection options.
func (a ClientAuth) options() ([]nats.Option, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	var opts []nats.Option
	switch {
	case a.User != "":
		opts = append(opts, nats.UserInfo(a.User, a.Password))
	case a.Token != "":
		opts = append(opts, nats.Token(a.Token))
	case a.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(a.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("bad PYCOTR_NATS_NKEY_SEED_FILE: %w", err)
		}
		opts = append(opts, o)
	case a.CredsFile != "":
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	if a.TLSCA != "" {
		opts = append(opts, nats.RootCAs(a.TLSCA))
	}
	if a.TLSCert != "" {
		opts = append(opts, nats.ClientCert(a.TLSCert, a.TLSKey))
	}
	return opts, nil
}

// classify marks a refused first connection: bad credentials (ErrAuth),
// a failed TLS handshake (ErrTLS), or nil for anything else (a server not
// up yet, which the connection retries).
func classify(err error) error {
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var alert tls.AlertError
	var op *net.OpError
	switch {
	case errors.Is(err, nats.ErrAuthorization), errors.Is(err, nats.ErrAuthExpired),
		errors.Is(err, nats.ErrAuthRevoked), errors.Is(err, nats.ErrAccountAuthExpired):
		return ErrAuth
	case errors.As(err, &unknownCA), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verify), errors.As(err, &alert), errors.Is(err, nats.ErrSecureConnRequired),
		errors.Is(err, nats.ErrSecureConnWanted), errors.Is(err, nats.ErrClientCertOrRootCAsRequired),
		errors.As(err, &op) && op.Op == "remote error": // an alert from the server's TLS, e.g. "certificate required"
		return ErrTLS
	}
	return nil
}
