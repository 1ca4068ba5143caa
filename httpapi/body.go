package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// limitBody bounds every request body: a declared length above the limit
// is refused at once, and reading past it fails with *http.MaxBytesError.
func (a *api) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > a.cfg.MaxBodyBytes {
			a.writeError(w, r, &http.MaxBytesError{Limit: a.cfg.MaxBodyBytes})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// readJSONBody reads a request's body and checks that it is JSON. It
// returns nil when there is no body. A body needs a JSON content type,
// except on GET, where the original's clients sometimes send none.
func readJSONBody(r *http.Request) ([]byte, error) {
	b, err := readAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, badArg("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.Method == http.MethodGet {
		return b, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return nil, newError(http.StatusUnsupportedMediaType, codeUnsupportedMedia,
			"Content-Type %q not supported: send application/json", ct)
	}
	return b, nil
}

// readAll reads the body, into a buffer of its declared length when it
// has one (limitBody bounds it).
func readAll(r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := buf.ReadFrom(r.Body)
	return buf.Bytes(), err
}

// decodeStrict decodes one JSON value into v as docs/PROTOCOL.md promises
// (the v1 API's rule), with the JSON v2 decoder: member names match their
// fields exactly (no case folding), a name sent twice, an unknown name and
// data after the value are refused, and strings must be valid UTF-8.
func decodeStrict(b []byte, v any) error {
	if err := jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return jsonError(err)
	}
	return nil
}

// jsonError describes a decoding error for the client.
func jsonError(err error) *apiError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var se2 *jsontext.SyntacticError
	var te2 *jsonv2.SemanticError
	switch {
	case errors.As(err, &se):
		return newError(http.StatusBadRequest, codeMalformedJSON, "malformed JSON at offset %d: %v", se.Offset, se)
	case errors.As(err, &se2): // from the v2 decoder (readArgs)
		return newError(http.StatusBadRequest, codeMalformedJSON, "malformed JSON at offset %d: %v", se2.ByteOffset, se2.Err)
	case errors.As(err, &te2):
		return newError(http.StatusBadRequest, codeBadArgument, "%s", strings.TrimPrefix(te2.Error(), "json: "))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return newError(http.StatusBadRequest, codeBadArgument, "%s: want %s, got JSON %s", field, te.Type, te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newError(http.StatusBadRequest, codeMalformedJSON, "malformed JSON: unexpected end of input")
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	// Unknown fields and errors from UnmarshalText (hashes, ...).
	return newError(http.StatusBadRequest, codeBadArgument, "%s", strings.TrimPrefix(err.Error(), "json: "))
}

// readStrict reads a required JSON body into v with decodeStrict.
func readStrict(r *http.Request, v any) error {
	b, err := readJSONBody(r)
	if err != nil {
		return err
	}
	if b == nil {
		return newError(http.StatusBadRequest, codeMissingArgument, "a JSON request body is required")
	}
	return decodeStrict(b, v)
}
