package archive

import (
	"context"
	"database/sql"
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

// noteSegment records in segments that seg holds a message as new as maxTS (in the batch's
// transaction, on the writer's connection).
func (s *sqliteDB) noteSegment(ctx context.Context, seg, maxTS int64) error {
	if s.noteSeg == nil {
		st, err := s.wconn.PrepareContext(ctx, `INSERT INTO segments (seg, max_ts) VALUES (?, ?)
			ON CONFLICT (seg) DO UPDATE SET max_ts = max(max_ts, excluded.max_ts)`)
		if err != nil {
			return err
		}
		s.noteSeg = st
	}
	_, err := s.noteSeg.ExecContext(ctx, seg, maxTS)
	return err
}

// recoverRows checks the rows of the newest segment rows point at: it alone can have lost
// bytes with the machine (segments.go). They are the newest rows: one writer inserts them in
// segment order and SQLite gives a new row a rowid above every row's, so they are read from the
// end of the table back. Rows whose bytes are missing or torn are deleted.
func (s *sqliteDB) recoverRows(ctx context.Context) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	rs, err := s.db.QueryContext(ctx, "SELECT rowid, seg, seg_off, seg_len, seg_crc FROM messages ORDER BY rowid DESC")
	if err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	var (
		ids    []int64
		locs   []segmentLoc
		newest sql.NullInt64
	)
	for rs.Next() {
		var (
			id          int64
			seg         sql.NullInt64
			off, n, crc sql.NullInt64
		)
		if err := rs.Scan(&id, &seg, &off, &n, &crc); err != nil {
			rs.Close()
			return 0, fmt.Errorf("archive segments recovery: %w", err)
		}
		if !seg.Valid || (newest.Valid && seg.Int64 != newest.Int64) {
			break
		}
		newest = seg
		ids = append(ids, id)
		locs = append(locs, segmentLoc{seg: seg.Int64, off: off.Int64, n: n.Int64, crc: uint32(crc.Int64)})
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	// Segment numbers never repeat, even once every file is gone: a stale entry in segments
	// must not describe a new segment.
	var noted sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT max(seg) FROM segments").Scan(&noted); err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	s.segs.cur = max(s.segs.cur, uint64(max(newest.Int64, noted.Int64)))
	var lost int64
	if newest.Valid {
		ok, err := s.segs.intact(newest.Int64, locs)
		if err != nil {
			return 0, err
		}
		for i, good := range ok {
			if good {
				continue
			}
			if _, err := s.db.ExecContext(ctx, "DELETE FROM messages WHERE rowid = ?", ids[i]); err != nil {
				return lost, fmt.Errorf("archive segments recovery: %w", err)
			}
			lost++
		}
	}
	return lost, s.removeUnused(ctx)
}

// afterPrune removes the segments retention left no row pointing at.
func (s *sqliteDB) afterPrune(ctx context.Context, _ bool) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	return s.removeUnused(ctx)
}

// removeUnused deletes every closed segment no row points at: those with no committed batch,
// and those whose newest message is older than the oldest stored one (retention deletes in
// timestamp order). A segment emptied otherwise (only duplicates, torn rows) goes once the
// oldest stored message is newer than its newest. Caller holds writeMu.
func (s *sqliteDB) removeUnused(ctx context.Context) error {
	var oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, "SELECT min(ts) FROM messages").Scan(&oldest); err != nil {
		return fmt.Errorf("archive segments: %w", err)
	}
	newestOf := map[int64]int64{}
	rs, err := s.db.QueryContext(ctx, "SELECT seg, max_ts FROM segments")
	if err != nil {
		return fmt.Errorf("archive segments: %w", err)
	}
	for rs.Next() {
		var seg, ts int64
		if err := rs.Scan(&seg, &ts); err != nil {
			rs.Close()
			return fmt.Errorf("archive segments: %w", err)
		}
		newestOf[seg] = ts
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("archive segments: %w", err)
	}
	for _, num := range s.segs.closed() {
		ts, committed := newestOf[int64(num)]
		if committed && oldest.Valid && ts >= oldest.Int64 {
			continue
		}
		if err := s.segs.remove(num); err != nil {
			return err
		}
	}
	// Entries of segments gone (or emptied: a later batch notes the current one again).
	if oldest.Valid {
		_, err = s.db.ExecContext(ctx, "DELETE FROM segments WHERE max_ts < ?", oldest.Int64)
	} else {
		_, err = s.db.ExecContext(ctx, "DELETE FROM segments")
	}
	if err != nil {
		return fmt.Errorf("archive segments: %w", err)
	}
	return nil
}
