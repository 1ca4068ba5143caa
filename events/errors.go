package events

import (
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// RemoteError is the error a peer's micro service answered a request with
// (its Nats-Service-Error-Code and Nats-Service-Error headers): the peer
// refused the request, as against the request not reaching it or the
// reply not decoding. Request methods wrap it; take it with errors.As:
//
//	var re *events.RemoteError
//	if errors.As(err, &re) && re.Code == 400 { … }
type RemoteError struct {
	Code        int    // the peer's status code (400: it refused our request); 0 if not a number
	Description string // the peer's description of the error
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("peer error %d: %s", e.Code, e.Description)
}

// remoteError returns the micro service error in a reply's headers, or nil
// if it carries none.
func remoteError(h nats.Header) *RemoteError {
	code := h.Get(micro.ErrorCodeHeader)
	if code == "" {
		return nil
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		n = 0
	}
	return &RemoteError{Code: n, Description: h.Get(micro.ErrorHeader)}
}
