package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The SQLite driver's side of segments.go: the columns a row points with, recovery at open and
// removing segments retention emptied.

func (s *sqliteDB) payloadCols() string { return "raw, seg, seg_off, seg_len, seg_crc" }

func (s *sqliteDB) payloadDest(p *payload) []any {
	return []any{&p.raw, &p.seg, &p.off, &p.n, &p.crc}
}

func (s *sqliteDB) loadPayloads(ps []*payload) error {
	var (
		locs []segmentLoc
		idx  []int
	)
	for i, p := range ps {
		if p.seg.Valid { // rows written before migration 3 hold their bytes in raw
			locs = append(locs, segmentLoc{seg: p.seg.Int64, off: p.off.Int64, n: p.n.Int64, crc: uint32(p.crc.Int64)})
			idx = append(idx, i)
		}
	}
	if len(locs) == 0 {
		return nil
	}
	raws := make([][]byte, len(locs))
	if err := s.segs.read(locs, raws); err != nil {
		return err
	}
	for k, i := range idx {
		ps[i].raw = raws[k]
	}
	return nil
}

// recoverRows checks the rows of the newest segment rows point at: it alone can have lost
// bytes with the machine (segments.go). Rows whose bytes are missing or torn are deleted.
func (s *sqliteDB) recoverRows(ctx context.Context) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var newest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT max(seg) FROM messages WHERE seg IS NOT NULL").Scan(&newest); err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	if !newest.Valid {
		return 0, s.removeUnused(ctx)
	}
	// A new segment is numbered above every one rows point at, even once its file is gone.
	s.segs.cur = max(s.segs.cur, uint64(newest.Int64))
	rs, err := s.db.QueryContext(ctx, "SELECT rowid, seg_off, seg_len, seg_crc FROM messages WHERE seg = ?", newest.Int64)
	if err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	var (
		ids  []int64
		locs []segmentLoc
	)
	for rs.Next() {
		var (
			id  int64
			l   = segmentLoc{seg: newest.Int64}
			crc int64
		)
		if err := rs.Scan(&id, &l.off, &l.n, &crc); err != nil {
			rs.Close()
			return 0, fmt.Errorf("archive segments recovery: %w", err)
		}
		l.crc = uint32(crc)
		ids, locs = append(ids, id), append(locs, l)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	ok, err := s.segs.intact(newest.Int64, locs)
	if err != nil {
		return 0, err
	}
	var lost int64
	for i, good := range ok {
		if good {
			continue
		}
		if _, err := s.db.ExecContext(ctx, "DELETE FROM messages WHERE rowid = ?", ids[i]); err != nil {
			return lost, fmt.Errorf("archive segments recovery: %w", err)
		}
		lost++
	}
	return lost, s.removeUnused(ctx)
}

// afterPrune removes the segments retention left no row pointing at.
func (s *sqliteDB) afterPrune(ctx context.Context, _ bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.removeUnused(ctx)
}

// removeUnused deletes every closed segment no row points at, an index seek each (caller
// holds writeMu).
func (s *sqliteDB) removeUnused(ctx context.Context) error {
	for _, num := range s.segs.closed() {
		var one int
		err := s.db.QueryRowContext(ctx, "SELECT 1 FROM messages WHERE seg = ? LIMIT 1", int64(num)).Scan(&one)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("archive segments: %w", err)
		}
		if err := s.segs.remove(num); err != nil {
			return err
		}
	}
	return nil
}
