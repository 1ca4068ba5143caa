package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// The built-in dashboard: static files embedded in the binary, no build
// step, nothing fetched from outside the node. index.html is served at /
// and everything else under /assets/.

//go:embed web
var webFiles embed.FS

// webContentTypes are the types of the dashboard's files, set explicitly
// so that they do not depend on the host's MIME tables.
var webContentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// webCSP allows only the node's own scripts and styles; connect-src stays
// open to http(s) because the network view calls each peer's own API.
const webCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' http: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

type webFile struct {
	body  []byte
	ctype string
	etag  string
}

// WebHandler serves the embedded dashboard. Every file carries a strong
// ETag (a digest of its content) and Cache-Control: no-cache, so a browser
// revalidates each load with a cheap 304 and never runs the scripts of an
// older binary against a newer API.
func WebHandler() http.Handler {
	files := make(map[string]webFile)
	err := fs.WalkDir(webFiles, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFiles.ReadFile(p)
		if err != nil {
			return err
		}
		ct, ok := webContentTypes[path.Ext(p)]
		if !ok {
			ct = http.DetectContentType(b)
		}
		sum := sha256.Sum256(b)
		files[strings.TrimPrefix(p, "web")] = webFile{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil { // the files are compiled in: this cannot fail at run time
		panic("httpapi: reading the embedded dashboard: " + err.Error())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/" {
			p = "/index.html"
		}
		f, ok := files[p]
		if !ok {
			http.Error(w, "404 page not found", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.ctype)
		h.Set("ETag", f.etag)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		if path.Ext(p) == ".html" {
			h.Set("Content-Security-Policy", webCSP)
			h.Set("Referrer-Policy", "no-referrer")
		}
		// ServeContent answers If-None-Match (304), Range and HEAD.
		http.ServeContent(w, r, p, time.Time{}, bytes.NewReader(f.body))
	})
}
