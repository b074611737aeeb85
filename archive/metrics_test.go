package archive

import (
	"sync"
	"testing"
	"time"
)

// storedMetrics records what the archive reports for waku_archive_messages and the insert
// histogram.
type storedMetrics struct {
	noMetrics
	mu       sync.Mutex
	stored   []int64
	inserted int
	insertD  time.Duration
}

func (m *storedMetrics) Stored(n int64) { m.mu.Lock(); m.stored = append(m.stored, n); m.mu.Unlock() }
func (m *storedMetrics) Inserted(rows, _ int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inserted += rows
	m.insertD += d
}

// Reopening an archive reports the stored count at open; inserts report rows and their time.
func TestStoredAndInsertMetrics(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		first := &storedMetrics{}
		a := open(t, dbURL, func(c *Config) { c.Metrics = first })
		insertAll(t, a, corpus(t, 12)...)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		first.mu.Lock()
		if len(first.stored) != 1 || first.stored[0] != 0 || first.inserted != 12 || first.insertD <= 0 {
			t.Errorf("fresh archive: stored reports %v, inserted %d in %v; want [0], 12 in > 0", first.stored, first.inserted, first.insertD)
		}
		first.mu.Unlock()

		again := &storedMetrics{}
		open(t, dbURL, func(c *Config) { c.Metrics = again })
		again.mu.Lock()
		defer again.mu.Unlock()
		if len(again.stored) != 1 || again.stored[0] != 12 {
			t.Errorf("reopened archive: stored reports %v, want [12]", again.stored)
		}
	})
}
