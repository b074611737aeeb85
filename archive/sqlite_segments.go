package archive

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The SQLite driver's side of segments.go: the columns a row points with, recovery at open and
// removing segments retention emptied.

// inSegment selects the rows of one segment (segmentKey bounds), a range of the partial index.
const inSegment = "seg_loc IS NOT NULL AND seg_loc >= ? AND seg_loc < ?"

func (s *sqliteDB) payloadCols() string { return "raw, seg_loc" }

func (s *sqliteDB) payloadDest(p *payload) []any { return []any{&p.raw, &p.loc} }

func (s *sqliteDB) loadPayloads(ps []*payload) error {
	var (
		locs []segmentLoc
		idx  []int
	)
	for i, p := range ps {
		if p.loc == nil { // small messages, and rows from before migration 3, hold their bytes in raw
			continue
		}
		l, err := decodeSegmentLoc(p.loc)
		if err != nil {
			return err
		}
		locs, idx = append(locs, l), append(idx, i)
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
	var newestLoc []byte
	if err := s.db.QueryRowContext(ctx, "SELECT max(seg_loc) FROM messages WHERE seg_loc IS NOT NULL").Scan(&newestLoc); err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	if newestLoc == nil {
		return 0, s.removeUnused(ctx)
	}
	last, err := decodeSegmentLoc(newestLoc)
	if err != nil {
		return 0, err
	}
	newest := last.seg
	// A new segment is numbered above every one rows point at, even once its file is gone.
	s.segs.cur = max(s.segs.cur, uint64(newest))
	rs, err := s.db.QueryContext(ctx, "SELECT rowid, seg_loc FROM messages WHERE "+inSegment, segmentKey(newest), segmentKey(newest+1))
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
			loc []byte
		)
		if err := rs.Scan(&id, &loc); err != nil {
			rs.Close()
			return 0, fmt.Errorf("archive segments recovery: %w", err)
		}
		l, err := decodeSegmentLoc(loc)
		if err != nil {
			rs.Close()
			return 0, err
		}
		ids, locs = append(ids, id), append(locs, l)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("archive segments recovery: %w", err)
	}
	ok, err := s.segs.intact(newest, locs)
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
		err := s.db.QueryRowContext(ctx, "SELECT 1 FROM messages WHERE "+inSegment+" LIMIT 1",
			segmentKey(int64(num)), segmentKey(int64(num)+1)).Scan(&one)
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
