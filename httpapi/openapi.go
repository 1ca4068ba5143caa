package httpapi

import (
	_ "embed"
	"net/http"
)

// openAPI is the OpenAPI 3 description of /api/v1; a test checks it
// against the router in both directions.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
