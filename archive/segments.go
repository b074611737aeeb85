package archive

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// segments keep the SQLite store's large messages (over inlineMaxBytes) outside the database,
// in append-only files; a row holds (segment, offset, length, CRC-32C). In SQLite every byte
// went through the WAL and again through the checkpoint, about half of the writer's CPU at
// 10 KB messages (docs/benchmarks-history.md, sessions 20 and 21); here a batch's
// bytes are one buffered append before its rows are committed.
//
// Durability follows the database's. An append has reached the OS before the rows that point
// at it are committed, so a committed message survives kill -9. FsyncCommits syncs the segment
// before each commit; otherwise a segment is synced when it is closed for the next one, so only
// the newest segment that rows point at can lack bytes after a power loss, and open checks its
// rows (recoverRows). Bytes appended but never committed are garbage, reclaimed with their
// segment.
//
// append, rotate, closed and remove run under the sqliteDB's write lock (the writer and
// retention); read may run on any goroutine, and total is read by Size.
type segments struct {
	dir      string
	maxBytes int64 // a segment is closed once it holds this much
	fsync    bool

	w    *os.File // the segment being appended to; nil until the first append
	bw   *bufio.Writer
	cur  uint64 // its number
	size int64  // its bytes

	mu    sync.Mutex
	sizes map[uint64]int64 // every segment file, the current one included
}

const (
	segmentSuffix   = ".seg"
	segmentMaxBytes = 16 << 20
)

var segmentCRC = crc32.MakeTable(crc32.Castagnoli)

// segmentLoc is where one message's bytes are.
type segmentLoc struct {
	seg, off, n int64
	crc         uint32
}

// segmentLocBytes is an encoded segmentLoc: segment and offset (big-endian u64, so the bytes
// sort as the locations do and a segment's rows are one range of the index), length and CRC.
const segmentLocBytes = 24

func (l segmentLoc) encode() []byte {
	b := make([]byte, segmentLocBytes)
	binary.BigEndian.PutUint64(b[0:], uint64(l.seg))
	binary.BigEndian.PutUint64(b[8:], uint64(l.off))
	binary.BigEndian.PutUint32(b[16:], uint32(l.n))
	binary.BigEndian.PutUint32(b[20:], l.crc)
	return b
}

func decodeSegmentLoc(b []byte) (segmentLoc, error) {
	if len(b) != segmentLocBytes {
		return segmentLoc{}, fmt.Errorf("archive: segment location of %d bytes, want %d", len(b), segmentLocBytes)
	}
	return segmentLoc{
		seg: int64(binary.BigEndian.Uint64(b[0:])), off: int64(binary.BigEndian.Uint64(b[8:])),
		n: int64(binary.BigEndian.Uint32(b[16:])), crc: binary.BigEndian.Uint32(b[20:]),
	}, nil
}

// segmentKey is the first 8 bytes of every location in segment seg (index range bounds).
func segmentKey(seg int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(seg))
}

// holds reports whether b is the bytes l was written with.
func (l segmentLoc) holds(b []byte) bool {
	return int64(len(b)) == l.n && crc32.Checksum(b, segmentCRC) == l.crc
}

func segmentDir(dbPath string) string { return dbPath + "-segments" }

// openSegments lists dir (creating it); appends go to a new segment after the newest file, so a
// tail torn by a crash is never appended to.
func openSegments(dir string, fsync bool) (*segments, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("archive segments: %w", err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("archive segments: %w", err)
	}
	s := &segments{dir: dir, maxBytes: segmentMaxBytes, fsync: fsync, sizes: map[uint64]int64{}}
	for _, e := range ents {
		hex, ok := strings.CutSuffix(e.Name(), segmentSuffix)
		num, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("archive segments: %w", err)
		}
		s.sizes[num] = info.Size()
		s.cur = max(s.cur, num)
	}
	return s, nil
}

func (s *segments) path(num uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x%s", num, segmentSuffix))
}

// append writes the bytes of raws behind the current segment and returns where each went.
// The caller commits rows pointing at them only after append returned nil.
func (s *segments) append(raws [][]byte) ([]segmentLoc, error) {
	if s.w == nil || s.size >= s.maxBytes {
		if err := s.rotate(); err != nil {
			return nil, err
		}
	}
	locs := make([]segmentLoc, len(raws))
	off := s.size
	for i, raw := range raws {
		locs[i] = segmentLoc{seg: int64(s.cur), off: off, n: int64(len(raw)), crc: crc32.Checksum(raw, segmentCRC)}
		if _, err := s.bw.Write(raw); err != nil {
			return nil, s.failed(err)
		}
		off += int64(len(raw))
	}
	if err := s.bw.Flush(); err != nil {
		return nil, s.failed(err)
	}
	if s.fsync {
		if err := s.w.Sync(); err != nil {
			return nil, s.failed(err)
		}
	}
	s.size = off
	s.mu.Lock()
	s.sizes[s.cur] = off
	s.mu.Unlock()
	return locs, nil
}

// failed closes a segment whose append failed part-way: its length is unknown, so the retry
// starts a new one.
func (s *segments) failed(err error) error {
	s.w.Close()
	s.w = nil // what bw still holds is dropped by the next rotate
	return fmt.Errorf("archive segment %d: %w", s.cur, err)
}

// rotate syncs and closes the current segment and starts the next.
func (s *segments) rotate() error {
	if err := s.close(); err != nil {
		return fmt.Errorf("archive segment %d: %w", s.cur, err)
	}
	f, err := os.OpenFile(s.path(s.cur+1), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("archive segments: %w", err)
	}
	s.cur++
	s.w, s.size = f, 0
	if s.bw == nil {
		s.bw = bufio.NewWriterSize(f, 256<<10)
	}
	s.bw.Reset(f)
	s.mu.Lock()
	s.sizes[s.cur] = 0
	s.mu.Unlock()
	// The new file's name must outlive a power loss as its bytes do (FsyncCommits), or the
	// rows pointing at it would be found torn.
	if err := syncDir(s.dir); err != nil {
		return s.failed(err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// closed lists the segments no longer appended to, oldest first.
func (s *segments) closed() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint64
	for num := range s.sizes {
		if s.w == nil || num != s.cur {
			out = append(out, num)
		}
	}
	slices.Sort(out)
	return out
}

// remove deletes a segment no row points at.
func (s *segments) remove(num uint64) error {
	if err := os.Remove(s.path(num)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("archive segments: %w", err)
	}
	s.mu.Lock()
	delete(s.sizes, num)
	s.mu.Unlock()
	return nil
}

// total is the bytes of all segment files.
func (s *segments) total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, size := range s.sizes {
		n += size
	}
	return n
}

// Reads of a page's messages are merged where they lie close together in a segment: a page
// is mostly in arrival order, and one pread per message doubled the time of a 100-message page
// of small messages (BenchmarkWalk).
const (
	readGapMax   = 16 << 10 // bytes of other messages worth reading over rather than a call
	readRangeMax = 1 << 20  // longest single read
)

// read fills dst[i] with the bytes at locs[i], checking each CRC. A location whose segment is
// gone (retention removed it, with its rows, after they were read) gets a nil entry and no
// error: the caller drops that row.
func (s *segments) read(locs []segmentLoc, dst [][]byte) error {
	order := make([]int, len(locs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := cmp.Compare(locs[a].seg, locs[b].seg); c != 0 {
			return c
		}
		return cmp.Compare(locs[a].off, locs[b].off)
	})
	var (
		f   *os.File // segment seg, nil if it is gone
		seg int64    = -1
	)
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	for len(order) > 0 {
		first := locs[order[0]]
		start, end, k := first.off, first.off+first.n, 1
		for ; k < len(order); k++ {
			l := locs[order[k]]
			if l.seg != first.seg || l.off > end+readGapMax || max(end, l.off+l.n)-start > readRangeMax {
				break
			}
			end = max(end, l.off+l.n)
		}
		group := order[:k]
		order = order[k:]
		if first.seg != seg {
			if f != nil {
				f.Close()
			}
			var err error
			seg = first.seg
			if f, err = os.Open(s.path(uint64(seg))); errors.Is(err, fs.ErrNotExist) {
				f = nil
			} else if err != nil {
				return fmt.Errorf("archive segment %d: %w", seg, err)
			}
		}
		if f == nil {
			continue
		}
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return fmt.Errorf("archive segment %d at %d: %w", seg, start, err)
		}
		for _, i := range group {
			l := locs[i]
			b := buf[l.off-start : l.off-start+l.n : l.off-start+l.n]
			if !l.holds(b) {
				return fmt.Errorf("archive segment %d at %d: %d bytes fail their CRC", seg, l.off, l.n)
			}
			dst[i] = b
		}
	}
	return nil
}

// intact reports which of locs, all in segment seg, still hold their bytes (after a power
// loss the segment may be shorter than the rows say, or hold zeros).
func (s *segments) intact(seg int64, locs []segmentLoc) ([]bool, error) {
	ok := make([]bool, len(locs))
	f, err := os.Open(s.path(uint64(seg)))
	if errors.Is(err, fs.ErrNotExist) {
		return ok, nil
	}
	if err != nil {
		return nil, fmt.Errorf("archive segment %d: %w", seg, err)
	}
	defer f.Close()
	var b []byte
	for i, l := range locs {
		b = slices.Grow(b[:0], int(l.n))[:l.n]
		if _, err := f.ReadAt(b, l.off); err != nil {
			continue
		}
		ok[i] = l.holds(b)
	}
	return ok, nil
}

// close syncs and closes the current segment.
func (s *segments) close() error {
	if s.w == nil {
		return nil
	}
	err := s.w.Sync()
	if cerr := s.w.Close(); err == nil {
		err = cerr
	}
	s.w = nil
	return err
}
