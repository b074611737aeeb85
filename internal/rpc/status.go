package rpc

import (
	"errors"
	"fmt"
	"net/http"
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

// StatusText is the HTTP reason phrase for code (the codes deliberately match HTTP's), used
// when a service node leaves the description empty.
func StatusText(code uint32) string {
	if t := http.StatusText(int(code)); t != "" {
		return t
	}
	return "status " + strconv.Itoa(int(code))
}
