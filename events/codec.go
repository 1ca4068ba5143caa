package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrTooLarge: a payload above its limit, dropped before decoding.
var ErrTooLarge = errors.New("payload too large")

// Encode is the JSON form of a message.
func Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// Decode reads one JSON value strictly: at most limit bytes, no unknown
// fields, nothing after the value.
func Decode(data []byte, limit int, v any) error {
	if len(data) > limit {
		return fmt.Errorf("decode %T: %d bytes over %d: %w", v, len(data), limit, ErrTooLarge)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	if dec.More() {
		return fmt.Errorf("decode %T: trailing data", v)
	}
	return nil
}
