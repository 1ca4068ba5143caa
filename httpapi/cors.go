package httpapi

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// cors lets browser origins call the API and answers their preflight
// requests. The allowed origins are Config.CORSOrigins when set ("*" for
// any), else the node's own public URL and its peers' public URLs, read
// at each request since peers come and go: the dashboard served by one
// node calls the others at their own URLs. (The original frontend calls
// the nodes from its server, which needs no CORS.)
func (a *api) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := a.originAllowed(origin)
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "Location, X-Request-Id, Retry-After, WWW-Authenticate")
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			next.ServeHTTP(w, r)
			return
		}
		// A preflight: answered here, whatever the route.
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
		if allowed {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS")
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", sanitizeHeaderList(req))
			}
			h.Set("Access-Control-Max-Age", "600")
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// originAllowed reports whether a browser origin may call the API.
func (a *api) originAllowed(origin string) bool {
	if list := a.cfg.CORSOrigins; len(list) > 0 {
		return slices.Contains(list, "*") || slices.Contains(list, origin)
	}
	o := originOf(origin)
	if o == "" {
		return false
	}
	if originOf(a.node.PublicURL()) == o {
		return true
	}
	return slices.ContainsFunc(a.peers.URLs(), func(u string) bool { return originOf(u) == o })
}

// originOf is the origin of a URL as a browser writes it in Origin:
// scheme://host[:port], lowercase, without the scheme's default port; ""
// for anything but an absolute http(s) URL. The loopback names are one
// (a dashboard opened at 127.0.0.1 calls peers published as localhost).
func originOf(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	scheme, host, port := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname()), u.Port()
	switch {
	case host == "127.0.0.1" || host == "::1":
		host = "localhost"
	case strings.Contains(host, ":"):
		host = "[" + host + "]" // IPv6
	}
	if port == "" || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
		return scheme + "://" + host
	}
	return scheme + "://" + host + ":" + port
}

// sanitizeHeaderList keeps the header names of a request's list that are
// plain tokens.
func sanitizeHeaderList(s string) string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f != "" && strings.IndexFunc(f, func(r rune) bool {
			return !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) < 0 {
			out = append(out, f)
		}
	}
	return strings.Join(out, ", ")
}
