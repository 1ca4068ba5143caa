package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pycotr/pycotr/chain"
)

// apiError is an error with the HTTP status and stable code a client is
// told. Detail is safe to show; the cause, if any, is only logged.
type apiError struct {
	Status int
	Code   string // machine-readable: a chain rule code or one of ours
	Title  string // short summary, the same for every error of this code
	Detail string // this occurrence
	cause  error
	header map[string]string // sent with the answer: Retry-After, WWW-Authenticate
}

func (e *apiError) Error() string { return e.Detail }

// Codes of the errors this package makes itself (the chain's rule codes
// cover the rest).
const (
	codeMalformedJSON    = "malformed-json"
	codeBadArgument      = "bad-argument"
	codeMissingArgument  = "missing-argument"
	codeBodyTooLarge     = "body-too-large"
	codeUnsupportedMedia = "unsupported-media-type"
	codeNotFound         = "not-found"
	codeMethodNotAllowed = "method-not-allowed"
	codeKeyMismatch      = "key-mismatch"
	codeBadPause         = "bad-pause"
	codeBadHashRate      = "bad-hash-rate"
	codeUnsupportedKey   = "unsupported-key"
	codeUnauthorized     = "unauthorized"
	codeTooManyRequests  = "too-many-requests"
	codeTooManyStreams   = "too-many-streams"
	codeAmbiguousTx      = "ambiguous-tx-id"
	codeInternal         = "internal"
)

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Title: http.StatusText(status), Detail: fmt.Sprintf(format, args...)}
}

func badArg(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, codeBadArgument, format, args...)
}

func missingArg(name string) *apiError {
	return newError(http.StatusBadRequest, codeMissingArgument, "%s is required", name)
}

func notFound(format string, args ...any) *apiError {
	return newError(http.StatusNotFound, codeNotFound, format, args...)
}

// retryLater is a refusal for want of capacity (429 or 503), with the
// Retry-After header.
func retryLater(status int, code string, after time.Duration, format string, args ...any) *apiError {
	e := newError(status, code, format, args...)
	e.header = map[string]string{"Retry-After": strconv.Itoa(int(max(after.Round(time.Second), time.Second) / time.Second))}
	return e
}

// kindStatus is the one table from chain rule kinds to HTTP statuses.
var kindStatus = map[chain.ErrorKind]int{
	chain.KindMalformed:   http.StatusBadRequest,
	chain.KindInvalid:     http.StatusUnprocessableEntity,
	chain.KindConflict:    http.StatusConflict,
	chain.KindUnavailable: http.StatusServiceUnavailable,
}

// classify turns any error into what a client may be told: our own
// errors as they are, chain rule errors by their kind, an oversized body
// as 413, and anything else as an opaque 500.
func classify(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if re, ok := chain.AsRuleError(err); ok {
		status, ok := kindStatus[re.Kind]
		if !ok {
			status = http.StatusUnprocessableEntity
		}
		return &apiError{Status: status, Code: re.Code, Title: re.Msg, Detail: err.Error()}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return newError(http.StatusRequestEntityTooLarge, codeBodyTooLarge, "request body larger than %d bytes", mbe.Limit)
	}
	return &apiError{Status: http.StatusInternalServerError, Code: codeInternal,
		Title: http.StatusText(http.StatusInternalServerError), Detail: "internal error", cause: err}
}

// isV1 reports whether a request is answered in the v1 style (problem
// documents) rather than in the original's envelope.
func isV1(r *http.Request) bool {
	return r.URL.Path == "/api/v1" || strings.HasPrefix(r.URL.Path, "/api/v1/")
}

// writeError answers with err in the style of the route: a problem
// document on /api/v1, the original's error envelope elsewhere.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := classify(err)
	if ae.Status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", ae.Status,
			"request_id", requestID(r), "err", errOr(ae.cause, err))
	} else {
		a.log.Debug("request rejected", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "code", ae.Code)
	}
	for k, v := range ae.header {
		w.Header().Set(k, v)
	}
	if isV1(r) {
		writeProblem(w, r, ae)
		return
	}
	writeJSON(w, ae.Status, compatContentType, compatError{Status: "error", Error: ae.Detail})
}

func errOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// problem is an RFC 9457 problem document, with the rule code as an
// extension member.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

const problemContentType = "application/problem+json"

// problemTypeBase prefixes a problem's code to make its type URI.
const problemTypeBase = "urn:pycotr:problem:"

func writeProblem(w http.ResponseWriter, r *http.Request, ae *apiError) {
	writeJSON(w, ae.Status, problemContentType, problem{
		Type: problemTypeBase + ae.Code, Title: ae.Title, Status: ae.Status, Detail: ae.Detail,
		Instance: r.URL.Path, Code: ae.Code, RequestID: requestID(r),
	})
}

// writeJSON writes v as JSON with a status and content type.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := encodeBody(v)
	if err != nil { // only our own types are encoded: a programming error
		slog.Default().Error("encode response", "err", err)
		b, status = []byte(`{"status":"error","error":"internal error"}`+"\n"), http.StatusInternalServerError
	}
	writeBody(w, status, contentType, b)
}

// encodeBody encodes v as an answer's body: JSON and a newline.
func encodeBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeBody writes an encoded body with a status and content type.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
