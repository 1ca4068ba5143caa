package events

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

func TestRemoteErrorFromHeaders(t *testing.T) {
	for _, tc := range []struct {
		name       string
		code, desc string
		want       *RemoteError
		text       string
	}{
		{name: "no error", want: nil},
		{name: "refused", code: "400", desc: "locator or limits out of range",
			want: &RemoteError{Code: 400, Description: "locator or limits out of range"},
			text: "request x: peer error 400: locator or limits out of range"},
		{name: "code not a number", code: "bad", desc: "oops", want: &RemoteError{Code: 0, Description: "oops"},
			text: "request x: peer error 0: oops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := nats.Header{}
			if tc.code != "" {
				h.Set(micro.ErrorCodeHeader, tc.code)
				h.Set(micro.ErrorHeader, tc.desc)
			}
			got := remoteError(h)
			if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
				t.Fatalf("remoteError = %#v, want %#v", got, tc.want)
			}
			if got == nil {
				return
			}
			err := fmt.Errorf("request x: %w", got)
			var re *RemoteError
			if !errors.As(err, &re) || re != got || err.Error() != tc.text {
				t.Fatalf("wrapped: %q, As %v", err, re)
			}
		})
	}
}
