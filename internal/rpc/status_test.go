package rpc

import (
	"errors"
	"fmt"
	"testing"
)

func TestStatusError(t *testing.T) {
	err := fmt.Errorf("query: %w", &StatusError{Protocol: "store", Code: 429, Desc: "slow down"})
	if got := err.Error(); got != "query: store: status 429: slow down" {
		t.Fatalf("Error() = %q", got)
	}
	if !IsStatus(err, 429) || IsStatus(err, 400) || IsStatus(errors.New("x"), 429) {
		t.Fatal("IsStatus matches the wrong codes")
	}
	// errors.Is matches any status error with the same code, whatever its text.
	if !errors.Is(err, &StatusError{Code: 429}) || errors.Is(err, &StatusError{Code: 503}) {
		t.Fatal("errors.Is does not match by code")
	}
	legacy := &StatusError{Protocol: "lightpush", Desc: "no peers"}
	if legacy.Error() != "lightpush: no peers" {
		t.Fatalf("code-less Error() = %q", legacy.Error())
	}
	if StatusText(503) != "Service Unavailable" || StatusText(505) != "No Peers To Relay" || StatusText(299) != "status 299" {
		t.Fatalf("StatusText: %q, %q, %q", StatusText(503), StatusText(505), StatusText(299))
	}
}
