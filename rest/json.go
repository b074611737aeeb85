package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// DefaultMaxBodyBytes bounds a request body; a WakuMessage of the largest sensible
// --max-msg-size, base64-inflated, fits well inside.
const DefaultMaxBodyBytes = 4 << 20

// Request-decoding failures; each becomes a 400 with the error text as body.
var (
	errWrongContentType = errors.New("Wrong Content-Type, expected application/json")
	errMissingBody      = errors.New("Missing request body")
	errDuplicateKey     = errors.New("duplicate key")
	errTrailingData     = errors.New("unexpected data after the JSON value")
)

// readJSON reads the request body after checking its content type and size, and rejects
// duplicate object keys (encoding/json silently keeps the last one; nwaku answers 400).
// It returns the raw body, already known to be exactly one well-formed JSON value.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, errWrongContentType
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("request body exceeds %d bytes", tooBig.Limit)
		}
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errMissingBody
	}
	if err := checkJSON(body); err != nil {
		return nil, err
	}
	return body, nil
}

// checkJSON verifies that b holds exactly one JSON value whose objects have no repeated keys.
func checkJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := checkValue(dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailingData
	}
	return nil
}

// maxDepth keeps a hostile body from recursing deeply; no request of ours nests past 4.
const maxDepth = 64

func checkValue(dec *json.Decoder, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("invalid JSON: nesting deeper than %d", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // scalar
	}
	switch d {
	case '{':
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return fmt.Errorf("invalid JSON: %w", err)
			}
			k, _ := kt.(string)
			if seen[k] {
				return fmt.Errorf("invalid JSON: %w %q", errDuplicateKey, k)
			}
			seen[k] = true
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
	case '[':
		for dec.More() {
			if err := checkValue(dec, depth+1); err != nil {
				return err
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return nil
}

// readStrings reads a JSON array of strings (topic lists, multiaddr lists).
func readStrings(w http.ResponseWriter, r *http.Request, limit int64) ([]string, error) {
	body, err := readJSON(w, r, limit)
	if err != nil {
		return nil, err
	}
	var out []string
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("invalid JSON: want an array of strings: %w", err)
	}
	if out == nil { // "null"
		return nil, errMissingBody
	}
	return out, nil
}

// writeJSON sends v with status 200.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// writeText sends a text/plain body; nwaku answers every error and every body-less success
// ("OK") this way.
func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}

func writeOK(w http.ResponseWriter) { writeText(w, http.StatusOK, "OK") }
