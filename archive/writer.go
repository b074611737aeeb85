package archive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/wakunode/wakunode/message"
)

// Drop reasons passed to Metrics.Dropped for messages that were accepted by policy but lost.
const (
	// DropQueueFull: the queue was full while the database was healthy (ingest overload).
	DropQueueFull = "queue_full"
	// DropDBUnavailable: the queue was full during a database outage, or the outage outlasted
	// Close.
	DropDBUnavailable = "db_unavailable"
	// DropRejected: the database refused the row itself (a data error no retry can fix).
	DropRejected = "rejected"
	// DropSpillFull: the queue was full and so was the spill (Config.SpillBytes).
	DropSpillFull = "spill_full"
	// DropSpillFailed: the spill could not be written or read back (disk full, I/O error).
	DropSpillFailed = "spill_failed"
	// DropTorn: a committed row whose bytes were not in its segment file at open (lost with
	// the machine, SQLite without FsyncCommits); the row is removed.
	DropTorn = "torn"
)

// DropReasons lists the Drop* reasons: every way a message accepted by policy can be lost.
func DropReasons() []string {
	return []string{DropQueueFull, DropDBUnavailable, DropRejected, DropSpillFull, DropSpillFailed, DropTorn}
}

// Health is the archive's state for /health.
type Health struct {
	OK     bool
	Reason string    // why the archive is degraded; empty when OK
	Since  time.Time // when the current state began
}

// health tracks database outages: one log line when writes start failing, one when they
// succeed again.
type health struct {
	mu       sync.Mutex
	ok       bool
	reason   string
	since    time.Time
	failures int
	lost     int64 // messages dropped during the current outage
}

// Health reports whether writes are succeeding. During a database outage it is degraded with
// the last error while messages wait in the queue.
func (a *Archive) Health() Health {
	a.health.mu.Lock()
	defer a.health.mu.Unlock()
	return Health{OK: a.health.ok, Reason: a.health.reason, Since: a.health.since}
}

func (a *Archive) degraded() bool {
	a.health.mu.Lock()
	defer a.health.mu.Unlock()
	return !a.health.ok
}

func (a *Archive) writeFailed(err error) {
	a.cfg.Metrics.WriteError()
	n, bytes := a.q.stats()
	h := &a.health
	h.mu.Lock()
	h.failures++
	h.reason = "database writes failing: " + err.Error()
	if !h.ok {
		h.mu.Unlock()
		return
	}
	h.ok, h.since, h.lost = false, time.Now(), 0
	h.mu.Unlock()
	a.log.Error("archive database unavailable: holding messages in the queue and retrying",
		"err", err, "queued", n, "queued_bytes", bytes, "queue_limit_bytes", a.cfg.QueueBytes)
}

func (a *Archive) writeSucceeded() {
	h := &a.health
	h.mu.Lock()
	if h.ok {
		h.mu.Unlock()
		return
	}
	outage, failures, lost := time.Since(h.since), h.failures, h.lost
	h.ok, h.reason, h.since, h.failures = true, "", time.Now(), 0
	h.mu.Unlock()
	a.log.Warn("archive database available again", "outage", outage.Round(time.Millisecond),
		"failed_attempts", failures, "messages_dropped", lost)
}

// drop counts n lost messages under reason and logs the cause at most once per interval.
func (a *Archive) drop(reason string, n int, err error) {
	for range n {
		a.cfg.Metrics.Dropped(reason)
	}
	a.dropped.Add(int64(n))
	a.health.mu.Lock()
	if !a.health.ok {
		a.health.lost += int64(n)
	}
	a.health.mu.Unlock()
	a.drops.note(slog.LevelWarn, reason, n, err)
}

// run is the single writer: it takes batches from the queue, commits them (retrying through
// outages) and runs retention. It returns once Close was called and the queue is drained.
func (a *Archive) run() {
	defer a.wg.Done()
	ticker := time.NewTicker(a.cfg.RetentionInterval)
	defer ticker.Stop()
	report := time.NewTicker(a.cfg.DropLogInterval)
	defer report.Stop()
	defer a.drops.flush(true)
	defer a.spills.flush(true)
	batch := make([]*message.Envelope, 0, min(a.cfg.BatchSize, 1024))
	var lastCommit time.Time
	busy := newBusyMeter(a.cfg.Busy, time.Now())
	defer busy.end()
	for {
		stopping := false
		select {
		case <-a.q.wake:
		case <-a.stop:
			stopping = true
		case now := <-busy.check():
			busy.tick(now)
			continue
		case <-report.C:
			a.drops.flush(false)
			a.spills.flush(false)
			continue
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), a.cfg.RetentionInterval)
			if err := a.EnforceRetention(ctx); err != nil {
				a.log.Warn("archive retention failed", "err", err)
			}
			cancel()
			continue
		}
		if !stopping {
			a.pace(lastCommit)
		}
		// The spill is left for the next start once Close began: draining it could take long.
		for a.q.pending(!stopping) {
			var (
				pos       spillPos
				fromSpill bool
			)
			batch, pos, fromSpill = a.take(batch[:0], stopping)
			if len(batch) == 0 {
				continue
			}
			began := time.Now()
			err := a.commit(batch)
			lastCommit = time.Now()
			busy.committed(began, lastCommit)
			n, size := len(batch), batchSize(batch)
			clear(batch) // written envelopes must not stay reachable from the reused slice
			a.q.resolve(n, size, err)
			// Rows the database refused are counted and gone; what Close could not write stays in
			// the spill for the next start.
			if fromSpill && (err == nil || !a.closing()) {
				if err := a.q.releaseSpill(pos); err != nil {
					a.log.Warn("archive spill: removing written segments failed", "err", err)
				}
			}
			if cap(batch) > 4096 {
				batch = nil // do not keep a burst's slice
			}
			stopping = stopping || a.closing()
		}
		if stopping {
			return
		}
	}
}

// pace holds a light load until CommitInterval has passed since the last commit and then
// until CommitRows wait or MaxCommitDelay has passed, so that what arrives meanwhile shares one
// transaction: at 1,000 msg/s the writer otherwise commits every message or two, at 10 msg/s
// every one. A backlog of a full batch, a Flush (also a Query's) or Close end the wait.
func (a *Archive) pace(lastCommit time.Time) {
	if a.cfg.CommitInterval < 0 {
		return
	}
	var t *time.Timer
	for !a.q.flushing() { // a token left by a Flush already served does not end the wait
		since := time.Since(lastCommit)
		waiting, bytes := a.q.backlog()
		if a.fullBatches(waiting, bytes) >= 1 || (since >= a.cfg.CommitInterval &&
			(waiting >= a.cfg.CommitRows || since >= a.cfg.MaxCommitDelay)) {
			return
		}
		// Past CommitInterval only CommitRows arriving (the queue's enough) or MaxCommitDelay
		// ends the wait: a wake-up per message, or per CommitInterval, is what the wait saves.
		d, enough := a.cfg.CommitInterval-since, (<-chan struct{})(nil)
		if d <= 0 {
			d, enough = a.cfg.MaxCommitDelay-since, a.q.enough
		}
		if t == nil {
			t = time.NewTimer(d)
			defer t.Stop()
		} else {
			t.Reset(d)
		}
		select {
		case <-t.C:
		case <-a.q.hurry:
		case <-enough:
		case <-a.stop:
			return
		}
	}
}

// closing reports whether Close has begun.
func (a *Archive) closing() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

// maxBatchScale bounds how much larger than Config.BatchSize/BatchBytes a batch grows when
// a backlog waits: a bigger transaction touches each index page once for more rows (the hash
// index's pages are hit at random) and pays one commit fsync for more messages.
const maxBatchScale = 4

// fullBatches is how many batches of Config.BatchSize rows or Config.BatchBytes bytes a
// backlog of n entries (bytes of them in memory) makes. Large messages fill a batch by bytes
// long before by rows: at 10 KB, 8 MiB is 800 rows, and a count of rows alone never saw a
// backlog before the queue spilled.
func (a *Archive) fullBatches(n int, bytes int64) int {
	return max(n/a.cfg.BatchSize, int(bytes/a.cfg.BatchBytes))
}

// take fills batch from memory, or from the spill once memory is empty (never while
// stopping), sized to the backlog.
func (a *Archive) take(batch []*message.Envelope, stopping bool) (_ []*message.Envelope, pos spillPos, fromSpill bool) {
	scale := min(maxBatchScale, max(1, a.fullBatches(a.q.backlog())))
	maxN, maxBytes := a.cfg.BatchSize*scale, a.cfg.BatchBytes*int64(scale)
	if batch = a.q.take(batch, maxN, maxBytes); len(batch) > 0 || stopping || a.q.sp == nil {
		return batch, pos, false
	}
	batch, pos, lost, err := a.q.takeSpill(batch, maxN, maxBytes)
	if lost > 0 {
		a.drop(DropSpillFailed, lost, err)
	} else if err != nil {
		a.log.Warn("archive spill", "err", err)
	}
	return batch, pos, true
}

// commit writes batch, retrying transient failures with jittered exponential backoff until it
// succeeds or Close gives up. Rows the database refuses outright are dropped one by one (a
// single bad row must not hold back the rest). It returns an error naming what was lost.
func (a *Archive) commit(batch []*message.Envelope) error {
	rest := batch
	var lost error
	wait := a.backoff()
	for {
		err := a.insert(rest)
		if err != nil && a.db.permanent(err) {
			var refused error
			rest, err, refused = a.insertEach(rest)
			if refused != nil {
				lost = fmt.Errorf("archive: rows rejected by the database: %w", refused)
			}
		}
		if err == nil {
			a.writeSucceeded()
			return lost
		}
		a.writeFailed(err)
		if !a.sleep(wait.Delay()) {
			a.drop(DropDBUnavailable, len(rest), err)
			return fmt.Errorf("archive: closed with %d messages unwritten: %w", len(rest), err)
		}
	}
}

// insertEach writes rows one at a time, dropping those the database refuses (the last such
// error is refused). It stops at the first transient error and returns the rows still to
// write with that error.
func (a *Archive) insertEach(rows []*message.Envelope) (rest []*message.Envelope, err, refused error) {
	for len(rows) > 0 {
		err := a.insert(rows[:1])
		if err != nil && !a.db.permanent(err) {
			return rows, err, refused
		}
		if err != nil {
			refused = err
			a.drop(DropRejected, 1, fmt.Errorf("message %s: %w", rows[0].Hash, err))
		}
		rows = rows[1:]
	}
	return nil, nil, refused
}

var errGaveUp = errors.New("archive: closing, and the database stayed unavailable for the close timeout")

func (a *Archive) insert(batch []*message.Envelope) error {
	timeout := a.cfg.WriteTimeout
	select {
	case <-a.stop:
		// Closing during an outage: no attempt may outlast the close deadline.
		if a.degraded() {
			left := time.Until(a.closeBy)
			if left <= 0 {
				return errGaveUp
			}
			timeout = min(timeout, left)
		}
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	n, err := a.db.insertBatch(ctx, batch, a.cfg.Now().UnixNano())
	if err != nil {
		return err
	}
	a.cfg.Metrics.Inserted(int(n), len(batch), time.Since(start))
	return nil
}

// sleep waits d, or less once Close began; it reports false when Close's deadline has passed.
func (a *Archive) sleep(d time.Duration) bool {
	select {
	case <-a.stop:
		left := time.Until(a.closeBy)
		if left <= 0 {
			return false
		}
		time.Sleep(min(d, left))
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-a.stop:
	}
	return true
}

// dropLog writes at most one line per cause per interval, with the count since the last line,
// so a flood of drops costs a counter increment, not a log line, per message.
type dropLog struct {
	msg    string
	log    *slog.Logger
	every  time.Duration
	mu     sync.Mutex
	causes map[string]*dropCause
}

type dropCause struct {
	last  time.Time
	count int64
	level slog.Level
	err   error
}

func (d *dropLog) note(level slog.Level, reason string, n int, err error) {
	now := time.Now()
	d.mu.Lock()
	c := d.causes[reason]
	if c == nil {
		c = &dropCause{}
		d.causes[reason] = c
	}
	c.count += int64(n)
	c.level, c.err = level, err
	if !c.last.IsZero() && now.Sub(c.last) < d.every {
		d.mu.Unlock()
		return
	}
	count := c.count
	c.last, c.count = now, 0
	d.mu.Unlock()
	d.write(level, reason, count, err)
}

// flush logs the counts noted since each cause's last line: those due (all with force), so a
// burst that ends is still reported in full.
func (d *dropLog) flush(force bool) {
	now := time.Now()
	type line struct {
		reason string
		c      dropCause
	}
	var due []line
	d.mu.Lock()
	for reason, c := range d.causes {
		if c.count > 0 && (force || now.Sub(c.last) >= d.every) {
			due = append(due, line{reason, *c})
			c.last, c.count = now, 0
		}
	}
	d.mu.Unlock()
	for _, l := range due {
		d.write(l.c.level, l.reason, l.c.count, l.c.err)
	}
}

func (d *dropLog) write(level slog.Level, reason string, count int64, err error) {
	attrs := []any{"reason", reason, "messages", count, "next_report_after", d.every}
	if err != nil {
		attrs = append(attrs, "err", err)
	}
	d.log.Log(context.Background(), level, d.msg, attrs...)
}
