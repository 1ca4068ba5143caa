package httpapi

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// embeddedWebFiles lists the dashboard's files as the binary embeds them,
// by their path under web/.
func embeddedWebFiles(t *testing.T) map[string]string {
	t.Helper()
	files := make(map[string]string)
	err := fs.WalkDir(webFiles, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFiles.ReadFile(p)
		files[strings.TrimPrefix(p, "web/")] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := files["index.html"]; !ok {
		t.Fatal("web/index.html is not embedded")
	}
	return files
}

// xmlNamespaces are URIs that name, and never fetch, anything.
var xmlNamespaces = map[string]bool{
	"http://www.w3.org/2000/svg":   true,
	"http://www.w3.org/1999/xlink": true,
	"http://www.w3.org/1999/xhtml": true,
}

var (
	absURL        = regexp.MustCompile(`(?i)\b(?:https?|wss?|ftp)://[^\s"'<>()\x60]*`)
	protoRelative = regexp.MustCompile(`(?i)(?:src|href|action|url|import|from)\s*[=(]?\s*["']?\s*//[a-z0-9]`)
	cssImport     = regexp.MustCompile(`(?i)@import\s+(?:url\()?\s*["']?([^"')\s;]+)`)
	remoteHints   = regexp.MustCompile(`(?i)//cdn|cdnjs|jsdelivr|unpkg\.com|googleapis|gstatic|fonts\.`)
	localRef      = regexp.MustCompile(`(?:src|href)="([^"#?]+)"|(?:from|import)\s*\(?\s*'(\.[^']+)'`)
)

// remoteRefs lists what in a file would make a browser reach outside the
// node: absolute URLs (but XML namespace names), protocol-relative URLs,
// remote CSS imports and well-known CDN or font hosts.
func remoteRefs(body string) []string {
	var out []string
	for _, u := range absURL.FindAllString(body, -1) {
		if !xmlNamespaces[u] {
			out = append(out, "absolute URL "+u)
		}
	}
	for _, m := range protoRelative.FindAllString(body, -1) {
		out = append(out, "protocol-relative reference "+m)
	}
	for _, m := range cssImport.FindAllStringSubmatch(body, -1) {
		if strings.Contains(m[1], ":") || strings.HasPrefix(m[1], "//") {
			out = append(out, "remote CSS import "+m[1])
		}
	}
	for _, m := range remoteHints.FindAllString(body, -1) {
		out = append(out, "remote host or CDN "+m)
	}
	return out
}

func TestRemoteRefsCatchesRemoteReferences(t *testing.T) {
	for _, bad := range []string{
		`<script src="https://cdn.example.com/x.js"></script>`,
		`<link href="//fonts.example.com/css" rel="stylesheet">`,
		`@import url("https://fonts.googleapis.com/css2?family=Inter");`,
		`@import "//example.com/a.css";`,
		`import x from 'https://esm.sh/lit';`,
		`fetch("http://example.com/api")`,
		`src: url(//example.com/font.woff2)`,
		`new WebSocket('wss://example.com')`,
	} {
		if len(remoteRefs(bad)) == 0 {
			t.Errorf("not caught: %s", bad)
		}
	}
	for _, good := range []string{
		`<link rel="stylesheet" href="assets/app.css">`,
		`document.createElementNS('http://www.w3.org/2000/svg', 'path')`,
		`import { h } from './dom.js'; // a comment`,
		`fetch(base + '/api/v1' + path)`,
	} {
		if r := remoteRefs(good); len(r) > 0 {
			t.Errorf("false alarm on %s: %v", good, r)
		}
	}
}

// TestWebAssetsAreSelfContained: the dashboard must work on a machine
// without network access, so no served file may reference anything
// outside the node, and every local reference must resolve.
func TestWebAssetsAreSelfContained(t *testing.T) {
	files := embeddedWebFiles(t)
	for name, body := range files {
		for _, r := range remoteRefs(body) {
			t.Errorf("%s: %s: the dashboard must use only the node's own files", name, r)
		}
		if !strings.HasSuffix(name, ".html") && !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range localRef.FindAllStringSubmatch(body, -1) {
			ref := m[1] + m[2]
			if strings.Contains(ref, "${") { // a template in JS, not a file
				continue
			}
			var p string
			if strings.HasPrefix(ref, "/") {
				p = strings.TrimPrefix(ref, "/")
			} else {
				p = path.Join(path.Dir(name), ref)
			}
			if _, ok := files[p]; !ok {
				t.Errorf("%s references %q, which is not embedded (want web/%s)", name, ref, p)
			}
		}
	}
}

func TestWebHandlerServesIndexAndAssets(t *testing.T) {
	srv := httptest.NewServer(WebHandler())
	defer srv.Close()

	get := func(path string, hdr ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}

	for path, want := range map[string]string{
		"/":                    "text/html; charset=utf-8",
		"/index.html":          "text/html; charset=utf-8",
		"/assets/app.css":      "text/css; charset=utf-8",
		"/assets/js/main.js":   "text/javascript; charset=utf-8",
		"/assets/js/pycotr.js": "text/javascript; charset=utf-8",
		"/assets/favicon.svg":  "image/svg+xml",
	} {
		res := get(path)
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, res.Status)
			continue
		}
		if got := res.Header.Get("Content-Type"); got != want {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, want)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", path)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache (revalidate with the ETag)", path, cc)
		}
		etag := res.Header.Get("ETag")
		if etag == "" {
			t.Errorf("GET %s: no ETag", path)
			continue
		}
		if res := get(path, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %s, want 304", path, res.Status)
		}
	}

	res := get("/")
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("index.html: Content-Security-Policy %q does not restrict scripts to the node", csp)
	}
	if res := get("/assets/nope.js"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET a missing asset: %s, want 404", res.Status)
	}
	res2, err := http.Post(srv.URL+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res2.Body.Close()
	if res2.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %s, want 405", res2.Status)
	}
}
