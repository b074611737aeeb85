package archive

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PolicyKind names a retention rule.
type PolicyKind int

// Retention rule kinds (--store-message-retention-policy).
const (
	PolicyTime     PolicyKind = iota + 1 // keep messages younger than Value seconds (by message timestamp)
	PolicyCapacity                       // keep the newest Value messages
	PolicySize                           // keep the table, its indexes and (SQLite) segment files under Value bytes
)

// Policy is one retention rule.
type Policy struct {
	Kind  PolicyKind
	Value int64
}

func (p Policy) String() string {
	switch p.Kind {
	case PolicyTime:
		return fmt.Sprintf("time:%d", p.Value)
	case PolicyCapacity:
		return fmt.Sprintf("capacity:%d", p.Value)
	case PolicySize:
		return fmt.Sprintf("size:%dB", p.Value)
	}
	return "unknown"
}

// ParseRetention parses nwaku's policy syntax: "time:<seconds>", "capacity:<count>",
// "size:<n>GB|MB|KB" (also "B"; decimal units, case-insensitive), several joined with ";".
// An empty string or "none" means no retention.
func ParseRetention(s string) ([]Policy, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	var out []Policy
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kind, val, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("retention policy %q: want kind:value", part)
		}
		var p Policy
		switch strings.ToLower(strings.TrimSpace(kind)) {
		case "time":
			p.Kind = PolicyTime
		case "capacity":
			p.Kind = PolicyCapacity
		case "size":
			p.Kind = PolicySize
		default:
			return nil, fmt.Errorf("retention policy %q: unknown kind %q", part, kind)
		}
		val = strings.TrimSpace(val)
		mult := int64(1)
		if p.Kind == PolicySize {
			u := strings.ToUpper(val)
			for _, unit := range []struct {
				suffix string
				mult   int64
			}{{"GB", 1_000_000_000}, {"MB", 1_000_000}, {"KB", 1_000}, {"B", 1}} {
				if strings.HasSuffix(u, unit.suffix) {
					val, mult = strings.TrimSpace(val[:len(val)-len(unit.suffix)]), unit.mult
					break
				}
			}
			if mult == 1 && !strings.HasSuffix(u, "B") {
				return nil, fmt.Errorf("retention policy %q: size needs a unit GB, MB or KB", part)
			}
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("retention policy %q: value must be a positive integer", part)
		}
		p.Value = n * mult
		out = append(out, p)
	}
	return out, nil
}

// deleteChunk bounds one DELETE so a large prune does not hold the write lock for long.
const deleteChunk = 10_000

// EnforceRetention applies every configured policy once. Open calls it, then the writer
// goroutine every RetentionInterval.
func (a *Archive) EnforceRetention(ctx context.Context) error {
	for _, p := range a.cfg.Retention {
		n, err := a.enforce(ctx, p)
		if n > 0 {
			a.cfg.Metrics.Pruned(n)
			a.log.Info("archive retention pruned", "policy", p.String(), "messages", n)
			if err == nil {
				err = a.db.afterPrune(ctx, p.Kind == PolicySize)
			}
		}
		if err != nil {
			return fmt.Errorf("archive retention %s: %w", p, err)
		}
	}
	a.reportStored(ctx)
	return nil
}

// reportStored counts the stored messages for Metrics.Stored. It runs at open and in the writer
// goroutine, so no insert of ours races the count; a failed count only skips the report.
func (a *Archive) reportStored(ctx context.Context) {
	if _, off := a.cfg.Metrics.(noMetrics); off {
		return
	}
	n, err := a.Count(ctx)
	if err != nil {
		a.log.Debug("archive: count for metrics", "err", err)
		return
	}
	a.cfg.Metrics.Stored(n)
}

func (a *Archive) enforce(ctx context.Context, p Policy) (int64, error) {
	switch p.Kind {
	case PolicyTime:
		cutoff := a.cfg.Now().Add(-time.Duration(p.Value) * time.Second).UnixNano()
		var total int64
		for {
			n, err := a.db.exec(ctx, fmt.Sprintf(
				"DELETE FROM messages WHERE hash IN (SELECT hash FROM messages WHERE ts < %s ORDER BY ts, hash LIMIT %d)",
				a.db.ph(1), deleteChunk), cutoff)
			total += n
			if err != nil || n < deleteChunk {
				return total, err
			}
		}
	case PolicyCapacity:
		count, err := a.Count(ctx)
		if err != nil || count <= p.Value {
			return 0, err
		}
		return a.deleteOldest(ctx, count-p.Value)
	case PolicySize:
		size, err := a.db.size(ctx)
		if err != nil || size <= p.Value {
			return 0, err
		}
		count, err := a.Count(ctx)
		if err != nil || count == 0 {
			return 0, err
		}
		// Keep as many rows as fit in 90% of the limit at the current bytes per row, so the
		// next run does not prune again right away.
		keep := int64(float64(p.Value) * 0.9 / (float64(size) / float64(count)))
		return a.deleteOldest(ctx, count-keep)
	}
	return 0, fmt.Errorf("unknown policy kind %d", p.Kind)
}

func (a *Archive) deleteOldest(ctx context.Context, n int64) (int64, error) {
	var total int64
	for total < n {
		k := min(n-total, deleteChunk)
		d, err := a.db.exec(ctx, fmt.Sprintf(
			"DELETE FROM messages WHERE hash IN (SELECT hash FROM messages ORDER BY ts, hash LIMIT %d)", k))
		total += d
		if err != nil {
			return total, err
		}
		if d == 0 {
			break
		}
	}
	return total, nil
}
