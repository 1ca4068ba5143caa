package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// args are the fields of a compatibility request body. The original
// accepted loosely typed JSON (its forms send numbers as strings), so each
// field is read by what it means rather than by a fixed Go type, and a
// value of the wrong kind is a 400 naming the field.
type args map[string]jsontext.Value

// readArgs reads a compatibility body: a JSON object, or nothing (nil
// args, on which every field is absent).
func readArgs(r *http.Request) (args, error) {
	b, err := readJSONBody(r)
	if err != nil || b == nil {
		return nil, err
	}
	// One pass of the JSON v2 decoder (the values are kept raw and read by
	// what each field means); a name sent twice is refused.
	var a args
	err = jsonv2.Unmarshal(b, &a)
	var se *jsonv2.SemanticError
	switch {
	case errors.As(err, &se) && se.JSONKind != '{': // an array, a string, ...
		a = nil
	case err != nil:
		return nil, jsonError(err)
	}
	if a == nil { // not an object, or JSON null
		return nil, newError(http.StatusBadRequest, codeBadArgument, "the request body must be a JSON object")
	}
	return a, nil
}

// raw returns a field's JSON, or nil when it is absent or null.
func (a args) raw(name string) jsontext.Value {
	v, ok := a[name]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil
	}
	return v
}

// str reads a string field.
func (a args) str(name string) (s string, ok bool, err error) {
	v := a.raw(name)
	if v == nil {
		return "", false, nil
	}
	// readArgs checked the syntax and the UTF-8: a string without escapes
	// is its bytes (the common case, and the private key is 2 400 of them).
	if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true, nil
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, badArg("%s must be a string", name)
	}
	return s, true, nil
}

// requiredStr reads a string field that must be present and not blank.
func (a args) requiredStr(name string) (string, error) {
	s, ok, err := a.str(name)
	if err != nil {
		return "", err
	}
	if !ok || strings.TrimSpace(s) == "" {
		return "", missingArg(name)
	}
	return strings.TrimSpace(s), nil
}

// integer reads an integer sent as a JSON number or a numeric string, as
// the original's int(...) did.
func (a args) integer(name string) (n int64, ok bool, err error) {
	v := a.raw(name)
	if v == nil {
		return 0, false, nil
	}
	bad := badArg("%s must be an integer (a JSON number or a numeric string)", name)
	var s string
	if v[0] == '"' {
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, false, bad
		}
		s = strings.TrimSpace(s)
	} else {
		var num json.Number
		if err := json.Unmarshal(v, &num); err != nil {
			return 0, false, bad
		}
		s = num.String()
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, true, nil
	}
	// 122.0 is an integer too; 1.5 and 1e300 are not.
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Trunc(f) != f || math.Abs(f) > 1<<53 {
		return 0, false, bad
	}
	return int64(f), true, nil
}

// requiredInt reads an integer field that must be present.
func (a args) requiredInt(name string) (int64, error) {
	n, ok, err := a.integer(name)
	if err == nil && !ok {
		err = missingArg(name)
	}
	return n, err
}

// digits reads a field of digits (a CVV, a card number) sent as a string
// or a JSON number, keeping a string's exact text.
func (a args) digits(name string) (string, bool, error) {
	v := a.raw(name)
	if v == nil {
		return "", false, nil
	}
	if v[0] == '"' {
		return a.str(name)
	}
	var num json.Number
	if err := json.Unmarshal(v, &num); err != nil {
		return "", false, badArg("%s must be a string or a number", name)
	}
	if _, err := strconv.ParseUint(num.String(), 10, 64); err != nil {
		return "", false, badArg("%s must be digits", name)
	}
	return num.String(), true, nil
}

// boolean reads a JSON bool, or the strings "true" and "false".
func (a args) boolean(name string) (bool, error) {
	v := a.raw(name)
	if v == nil {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return b, nil
		}
	}
	return false, badArg("%s must be true or false", name)
}

// strList reads a list of strings.
func (a args) strList(name string) ([]string, bool, error) {
	v := a.raw(name)
	if v == nil {
		return nil, false, nil
	}
	var l []string
	if err := json.Unmarshal(v, &l); err != nil {
		return nil, false, badArg("%s must be a list of strings", name)
	}
	return l, true, nil
}
