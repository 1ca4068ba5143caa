package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireAdmin guards the routes that change how the node runs or spend
// its CPU on demand (the miner controls, key generation): when
// Config.AdminToken is set, a request must carry it as
// "Authorization: Bearer <token>", else 401 with WWW-Authenticate. With
// no token the routes are open, as on the local network.
//
// The comparison is of the two tokens' SHA-256 digests in constant time,
// so neither the token's content nor its length shows in the timing; the
// token is never logged (the access log records no headers).
func (a *api) requireAdmin(next http.Handler) http.Handler {
	if a.cfg.AdminToken == "" {
		return next
	}
	want := sha256.Sum256([]byte(a.cfg.AdminToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := bearerToken(r)
		got := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !ok {
			e := newError(http.StatusUnauthorized, codeUnauthorized,
				"this route needs the node's admin token: Authorization: Bearer <token>")
			e.header = map[string]string{"WWW-Authenticate": `Bearer realm="pycotr"`}
			a.writeError(w, r, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken reads "Authorization: Bearer <token>" (the scheme in any
// case, RFC 9110 §11.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
