// Package testlog is a log sink for tests: a buffer that the node's goroutines may write to
// while the test reads it (go-libp2p-pubsub, the archive writer and others log from their own
// goroutines, sometimes after Stop returns).
package testlog

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent writers and readers. The zero value is ready.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Count is the number of non-overlapping occurrences of sub written so far.
func (s *Buffer) Count(sub string) int { return strings.Count(s.String(), sub) }
