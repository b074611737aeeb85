package archive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/wakunode/wakunode/message"
	"github.com/wakunode/wakunode/message/pb"
)

// driver is what each SQL backend provides; the SQL text is shared and built here.
type driver interface {
	// ph returns the placeholder for the n-th (1-based) argument.
	ph(n int) string
	query(ctx context.Context, sql string, args ...any) (rows, error)
	queryRow(ctx context.Context, sql string, args ...any) scanner
	exec(ctx context.Context, sql string, args ...any) (int64, error)
	// execTx runs statements in one transaction (migrations).
	execTx(ctx context.Context, stmts []string) error
	insertBatch(ctx context.Context, batch []*message.Envelope, storedAt int64) (int64, error)
	// permanent reports whether a failed write can never succeed for these rows (as opposed
	// to an outage, worth retrying).
	permanent(err error) bool
	migrations() []string
	size(ctx context.Context) (int64, error)
	vacuum(ctx context.Context) error
	// afterPrune lets a driver reclaim space after retention deleted rows.
	afterPrune(ctx context.Context, bySize bool) error
	// recoverRows runs after migrations at open: it removes rows whose message bytes did not
	// survive a power loss, returning how many.
	recoverRows(ctx context.Context) (int64, error)
	// payloadCols are the columns a query selects for a message's bytes, scanned into
	// payloadDest; loadPayloads then fetches bytes kept outside the database (raw stays nil
	// for a message pruned meanwhile).
	payloadCols() string
	payloadDest(p *payload) []any
	loadPayloads(ps []*payload) error
	close()
}

type scanner interface{ Scan(dest ...any) error }

// payload is a stored message's bytes: raw, or where a segment holds them (SQLite, loc set).
type payload struct {
	raw, loc []byte
}

type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

var errNoRows = errors.New("no rows")

// Query returns one page. Results are ascending; the cursor follows store.md.
func (a *Archive) Query(ctx context.Context, q Query) (Page, error) {
	start := time.Now()
	a.commitWaiting(ctx)
	p, err := a.query(ctx, q)
	a.cfg.Metrics.Query(time.Since(start), err)
	return p, err
}

// queryFlushWait bounds how long a query waits for the writer to commit what is queued.
const queryFlushWait = time.Second

// commitWaiting lets a query read the messages accepted before it (read your writes) although
// a light load is committed only every MaxCommitDelay: it asks the writer to commit what waits
// in memory now. A backlog (a batch or more, or a spill) is not waited for, and an outage holds
// the query for queryFlushWait at most.
func (a *Archive) commitWaiting(ctx context.Context) {
	if a.fullBatches(a.q.backlog()) >= 1 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, queryFlushWait)
	defer cancel()
	_ = a.Flush(ctx) // the query answers from what is committed either way
}

func (a *Archive) query(ctx context.Context, q Query) (Page, error) {
	if q.Limit <= 0 {
		return Page{}, fmt.Errorf("archive query: limit %d must be positive", q.Limit)
	}
	var curTS int64
	if q.Cursor != nil {
		err := a.db.queryRow(ctx, "SELECT ts FROM messages WHERE hash = "+a.db.ph(1), q.Cursor[:]).Scan(&curTS)
		if errors.Is(err, errNoRows) {
			return Page{}, fmt.Errorf("archive query cursor %s: %w", q.Cursor, ErrUnknownCursor)
		}
		if err != nil {
			return Page{}, fmt.Errorf("archive query cursor: %w", err)
		}
	}
	sqlText, args := buildQuery(a.db, q, curTS)
	rs, err := a.db.query(ctx, sqlText, args...)
	if err != nil {
		return Page{}, fmt.Errorf("archive query: %w", err)
	}
	defer rs.Close()
	entries := make([]Entry, 0, q.Limit+1)
	var data []*payload
	for rs.Next() {
		var (
			e    Entry
			hash []byte
			p    payload
		)
		dest := []any{&hash, &e.Timestamp}
		if q.IncludeData {
			dest = append(append(dest, &e.PubsubTopic), a.db.payloadDest(&p)...)
		}
		if err := rs.Scan(dest...); err != nil {
			return Page{}, fmt.Errorf("archive query scan: %w", err)
		}
		if e.Hash, err = message.HashFromBytes(hash); err != nil {
			return Page{}, fmt.Errorf("archive query: stored %w", err)
		}
		entries = append(entries, e)
		if q.IncludeData {
			data = append(data, &p)
		}
	}
	if err := rs.Err(); err != nil {
		return Page{}, fmt.Errorf("archive query rows: %w", err)
	}
	rs.Close()
	var page Page
	if len(entries) > q.Limit {
		entries = entries[:q.Limit]
		c := entries[len(entries)-1].Hash // the boundary nearest the unread remainder
		page.Cursor = &c
	}
	if q.IncludeData {
		if entries, err = a.decode(entries, data[:len(entries)]); err != nil {
			return Page{}, err
		}
	}
	if !q.Forward {
		slices.Reverse(entries)
	}
	page.Entries = entries
	return page, nil
}

// decode fills each entry's Message from its payload, loading the bytes kept outside the
// database first. An entry whose bytes were pruned after its row was read is dropped, as if
// retention had run just before the query.
func (a *Archive) decode(entries []Entry, data []*payload) ([]Entry, error) {
	if err := a.db.loadPayloads(data); err != nil {
		return nil, fmt.Errorf("archive query: %w", err)
	}
	out := entries[:0]
	for i, e := range entries {
		if data[i].raw == nil {
			continue
		}
		e.Message = &pb.WakuMessage{}
		if err := proto.Unmarshal(data[i].raw, e.Message); err != nil {
			return nil, fmt.Errorf("archive query: stored message %s: %w", e.Hash, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// buildQuery renders q as one statement fetching Limit+1 rows in walk order. Every branch is
// an index seek from the cursor: (pubsub_topic, content_topic, ts, hash) for content filters,
// (ts, hash) otherwise; several content topics become a UNION ALL of per-topic seeks, each
// bounded by the limit, so the final sort touches at most topics×(limit+1) rows.
func buildQuery(d driver, q Query, curTS int64) (string, []any) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return d.ph(len(args))
	}
	cols := "hash, ts"
	if q.IncludeData {
		cols += ", pubsub_topic, " + d.payloadCols()
	}
	order, cmp := " ORDER BY ts, hash", ">"
	if !q.Forward {
		order, cmp = " ORDER BY ts DESC, hash DESC", "<"
	}
	limit := fmt.Sprintf(" LIMIT %d", q.Limit+1)

	// common renders the predicates shared by every branch.
	common := func() []string {
		var w []string
		switch {
		case q.PubsubTopic != "" && len(q.Hashes) > 0:
			// A hash lookup must seek the primary key; "|| ''" keeps planners without
			// statistics (SQLite) from walking the pubsub topic index instead.
			w = append(w, "pubsub_topic || '' = "+arg(q.PubsubTopic))
		case q.PubsubTopic != "":
			w = append(w, "pubsub_topic = "+arg(q.PubsubTopic))
		}
		if q.TimeStart != nil {
			w = append(w, "ts >= "+arg(*q.TimeStart))
		}
		if q.TimeEnd != nil {
			w = append(w, "ts < "+arg(*q.TimeEnd))
		}
		if len(q.Hashes) > 0 {
			ps := make([]string, len(q.Hashes))
			for i, h := range q.Hashes {
				ps[i] = arg(h[:])
			}
			w = append(w, "hash IN ("+strings.Join(ps, ", ")+")")
		}
		if q.Cursor != nil {
			w = append(w, fmt.Sprintf("(ts, hash) %s (%s, %s)", cmp, arg(curTS), arg(q.Cursor[:])))
		}
		return w
	}
	where := func(w []string) string {
		if len(w) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(w, " AND ")
	}

	switch len(q.ContentTopics) {
	case 0:
		return "SELECT " + cols + " FROM messages" + where(common()) + order + limit, args
	case 1:
		w := append(common(), "content_topic = "+arg(q.ContentTopics[0]))
		return "SELECT " + cols + " FROM messages" + where(w) + order + limit, args
	}
	parts := make([]string, len(q.ContentTopics))
	for i, ct := range q.ContentTopics {
		w := append(common(), "content_topic = "+arg(ct))
		parts[i] = fmt.Sprintf("SELECT * FROM (SELECT %s FROM messages%s%s%s) AS t%d", cols, where(w), order, limit, i)
	}
	return strings.Join(parts, " UNION ALL ") + order + limit, args
}
