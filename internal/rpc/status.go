package rpc

import (
	"errors"
	"fmt"
	"strconv"
)

// StatusError is a non-success answer from a Waku service node: every request/response
// protocol (store, filter, lightpush, peer exchange) reports its status codes this way.
// Code 0 means the protocol carries no code (legacy lightpush: only is_success and a text).
type StatusError struct {
	Protocol string
	Code     uint32
	Desc     string
}

func (e *StatusError) Error() string {
	if e.Code == 0 {
		return e.Protocol + ": " + e.Desc
	}
	return fmt.Sprintf("%s: status %d: %s", e.Protocol, e.Code, e.Desc)
}

// Is makes errors.Is match status errors by code, so a sentinel such as a 429 error matches
// every 429 answer.
func (e *StatusError) Is(target error) bool {
	var t *StatusError
	return errors.As(target, &t) && t.Code == e.Code
}

// IsStatus reports whether err is a *StatusError with the given code.
func IsStatus(err error, code uint32) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == code
}

// statusTexts are the codes Waku's request/response protocols use (they follow HTTP's), with
// the names nwaku gives them.
var statusTexts = map[uint32]string{
	200: "OK", 300: "Bad Response", 400: "Bad Request", 401: "Bad Response", 402: "Payment Required", 404: "Not Found",
	413: "Payload Too Large", 420: "Invalid Message", 421: "Unsupported Pubsub Topic",
	429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable",
	504: "Peer Dial Failure", 505: "No Peers To Relay", 599: "Dial Failure",
}

// StatusText names a status code, for answers whose description is empty.
func StatusText(code uint32) string {
	if t, ok := statusTexts[code]; ok {
		return t
	}
	return "status " + strconv.Itoa(int(code))
}
