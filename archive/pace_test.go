package archive

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// batchLog records the size of every committed batch.
type batchLog struct {
	*countMetrics
	mu      sync.Mutex
	batches []int
}

func (m *batchLog) Inserted(_, batch int, _ time.Duration) {
	m.mu.Lock()
	m.batches = append(m.batches, batch)
	m.mu.Unlock()
}

func (m *batchLog) sizes() []int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.batches)
}

// A light load waits for CommitInterval after a commit, so messages arriving meanwhile share
// one transaction; a Flush ends the wait (with an hour's interval, the test would hang otherwise).
func TestLightLoadSharesOneTransaction(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		m := &batchLog{countMetrics: newCountMetrics()}
		a := open(t, dbURL, func(c *Config) { c.CommitInterval = time.Hour; c.Metrics = m })
		ctx := context.Background()
		if err := a.Insert(env(t, "/waku/2/rs/0/0", "/app/1/a/proto", testNow.UnixNano(), "first")); err != nil {
			t.Fatal(err)
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for i := range 20 {
			time.Sleep(10 * time.Millisecond) // an idle writer would commit each message alone
			if err := a.Insert(env(t, "/waku/2/rs/0/0", "/app/1/a/proto", testNow.UnixNano()+int64(i+1), fmt.Sprint("m", i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if got := m.sizes(); !slices.Equal(got, []int{1, 20}) {
			t.Fatalf("committed batches %v, want [1 20]", got)
		}
	})
}

// At the lowest rates the writer holds fewer than CommitRows messages past CommitInterval
// (until MaxCommitDelay), commits once CommitRows wait, and a query commits what waits before
// it reads: it sees every message accepted before it although MaxCommitDelay is an hour.
func TestLowRateWaitsForRowsAndQueryReadsItsWrites(t *testing.T) {
	forEach(t, func(t *testing.T, dbURL string) {
		m := &batchLog{countMetrics: newCountMetrics()}
		a := open(t, dbURL, func(c *Config) {
			c.CommitInterval, c.CommitRows, c.MaxCommitDelay, c.Metrics = time.Millisecond, 5, time.Hour, m
		})
		ctx := context.Background()
		insert := func(i int) {
			t.Helper()
			if err := a.Insert(env(t, "/waku/2/rs/0/0", "/app/1/a/proto", testNow.UnixNano()+int64(i), fmt.Sprint("m", i))); err != nil {
				t.Fatal(err)
			}
		}
		insert(0)
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 5; i++ {
			time.Sleep(5 * time.Millisecond) // past CommitInterval each time
			insert(i)
		}
		deadline := time.Now().Add(10 * time.Second)
		for len(m.sizes()) < 2 { // the fifth waiting message releases the batch
			if time.Now().After(deadline) {
				t.Fatalf("committed batches %v, want a second batch once 5 wait", m.sizes())
			}
			time.Sleep(time.Millisecond)
		}
		insert(6)
		page, err := a.Query(ctx, Query{Limit: 100, Forward: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entries) != 7 {
			t.Fatalf("query saw %d messages, want all 7 accepted before it", len(page.Entries))
		}
		if got := m.sizes(); !slices.Equal(got, []int{1, 5, 1}) {
			t.Fatalf("committed batches %v, want [1 5 1]", got)
		}
	})
}

// The queue signals enough once per accumulation: when the backlog reaches CommitRows, not
// at every push past it.
func TestQueueSignalsEnoughOnce(t *testing.T) {
	q := newQueue(100, 1<<20, 3)
	push := func(i int) {
		t.Helper()
		if res, err, _ := q.push(env(t, "/waku/2/rs/0/0", "/app/1/a/proto", testNow.UnixNano()+int64(i), fmt.Sprint("m", i))); res != pushedMem || err != nil {
			t.Fatalf("push %d: %v, %v", i, res, err)
		}
	}
	signalled := func() bool {
		select {
		case <-q.enough:
			return true
		default:
			return false
		}
	}
	for i := range 2 {
		push(i)
	}
	if signalled() {
		t.Fatal("enough signalled below CommitRows")
	}
	push(2)
	if !signalled() {
		t.Fatal("enough not signalled at CommitRows")
	}
	push(3)
	if signalled() {
		t.Fatal("enough signalled again past CommitRows")
	}
}

// Large messages fill a batch by bytes long before by rows (at 10 KB, 8 MiB is 800 rows of
// 5,000): a backlog counted in bytes grows the next batch as one counted in rows does, up to
// maxBatchScale batches, instead of waiting for the queue to spill.
func TestByteBacklogGrowsTheBatch(t *testing.T) {
	const (
		msgSize    = 64 << 10
		batchBytes = 1 << 20
		offered    = 64 // 4 MiB and more: maxBatchScale batches
	)
	forEach(t, func(t *testing.T, dbURL string) {
		m := &batchLog{countMetrics: newCountMetrics()}
		a := open(t, dbURL, func(c *Config) { c.BatchBytes, c.Metrics = batchBytes, m })
		release := stall(t, dbURL)
		perBatch := 0 // rows in one batch of BatchBytes
		for i := range offered {
			e := bigEnvelope(t, i, msgSize)
			perBatch = int(batchBytes / entrySize(e))
			if err := a.Insert(e); err != nil {
				t.Fatal(err)
			}
		}
		release()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		sizes := m.sizes()
		total := 0
		for _, n := range sizes {
			total += n
		}
		if total != offered || slices.Max(sizes) <= perBatch {
			t.Fatalf("committed batches %v (one batch of BatchBytes is %d rows): want all %d, and a batch sized to the backlog", sizes, perBatch, offered)
		}
	})
}
