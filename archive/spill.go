package archive

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/wakunode/wakunode/message"
)

// spill is the on-disk overflow of the insert queue: when the queue is full, messages are
// appended to a log of segment files in dir instead of being dropped, and the writer drains
// them into the database, oldest first, once the queue is empty. It is bounded in bytes (the
// segment files on disk). Segments are deleted only after every message read from them is
// committed, so a crash replays at most one segment of written messages (the hash de-duplicates
// them).
//
// Appends, rotation and resets happen under the queue's lock; reads happen on the writer
// goroutine only, below the offset the last flush made visible.
type spill struct {
	dir      string
	maxBytes int64
	segBytes int64

	// Under the queue's lock.
	segs []spillSeg // oldest first; the last one is being appended to
	size int64      // bytes of all segments, buffered tail included
	w    *os.File
	bw   *bufio.Writer

	// Writer goroutine only.
	r    *os.File
	rseg uint64 // the segment being read; 0 before the first read
	roff int64  // next record's offset in it
	rcnt int    // records read from it
}

type spillSeg struct {
	num   uint64
	size  int64 // bytes appended, buffered ones included
	count int   // records appended
}

// spillPos is where a batch read from the spill ends: committing the batch releases what is
// before it.
type spillPos struct {
	seg uint64
	off int64
}

const (
	spillHeader = 8 // u32 payload length, u32 CRC-32C of the payload
	spillPrefix = "spill-"
	spillSuffix = ".log"
)

var spillCRC = crc32.MakeTable(crc32.Castagnoli)

// spillRecordSize is what appending e costs against the bound.
func spillRecordSize(e *message.Envelope) int64 {
	return int64(spillHeader + 2 + len(e.PubsubTopic) + 8 + len(e.Raw))
}

// openSpill opens dir, counting the messages a previous run left (they are replayed first). A
// torn or corrupt tail, as kill -9 or a crash during an append leaves, is cut off.
func openSpill(dir string, maxBytes int64) (*spill, int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("archive spill dir: %w", err)
	}
	s := &spill{dir: dir, maxBytes: maxBytes, segBytes: max(1<<20, min(64<<20, maxBytes/8))}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("archive spill dir: %w", err)
	}
	var nums []uint64
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, spillPrefix) || !strings.HasSuffix(name, spillSuffix) {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(name, spillPrefix), spillSuffix), 10, 64)
		if err == nil {
			nums = append(nums, n)
		}
	}
	slices.Sort(nums)
	count := 0
	for _, n := range nums {
		k, size, err := s.recover(n)
		if err != nil {
			return nil, 0, err
		}
		if k == 0 {
			if err := os.Remove(s.path(n)); err != nil {
				return nil, 0, fmt.Errorf("archive spill: %w", err)
			}
			continue
		}
		count += k
		s.segs = append(s.segs, spillSeg{num: n, size: size, count: k})
		s.size += size
	}
	next := uint64(1)
	if len(nums) > 0 {
		next = nums[len(nums)-1] + 1
	}
	if err := s.startSegment(next); err != nil {
		return nil, 0, err
	}
	return s, count, nil
}

func (s *spill) path(num uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s%016d%s", spillPrefix, num, spillSuffix))
}

// recover counts the intact records of segment num and truncates it after the last one.
func (s *spill) recover(num uint64) (count int, size int64, err error) {
	f, err := os.OpenFile(s.path(num), os.O_RDWR, 0)
	if err != nil {
		return 0, 0, fmt.Errorf("archive spill: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		_, n, err := readSpillRecord(br)
		if err != nil {
			break
		}
		count++
		size += n
	}
	if err := f.Truncate(size); err != nil {
		return 0, 0, fmt.Errorf("archive spill: %w", err)
	}
	return count, size, nil
}

func (s *spill) startSegment(num uint64) error {
	f, err := os.OpenFile(s.path(num), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("archive spill: %w", err)
	}
	s.w, s.bw = f, bufio.NewWriterSize(f, 256<<10)
	s.segs = append(s.segs, spillSeg{num: num})
	return nil
}

var errSpillFull = errors.New("archive: spill full")

// append writes e behind the spilled messages (caller holds the queue's lock).
func (s *spill) append(e *message.Envelope) error {
	n := spillRecordSize(e)
	if s.size+n > s.maxBytes {
		return errSpillFull
	}
	if len(e.PubsubTopic) > 0xffff {
		return errors.New("archive spill: pubsub topic over 64 KiB")
	}
	last := &s.segs[len(s.segs)-1]
	if s.w == nil || (last.size > 0 && last.size+n > s.segBytes) {
		if err := s.closeWriter(); err != nil {
			return err
		}
		if err := s.startSegment(last.num + 1); err != nil {
			return err
		}
		last = &s.segs[len(s.segs)-1]
	}
	var hdr [spillHeader + 2]byte
	payload := n - spillHeader
	binary.LittleEndian.PutUint32(hdr[0:], uint32(payload))
	binary.LittleEndian.PutUint16(hdr[8:], uint16(len(e.PubsubTopic)))
	var ts [8]byte
	binary.LittleEndian.PutUint64(ts[:], uint64(e.ReceivedAt))
	crc := crc32.Update(0, spillCRC, hdr[8:])
	crc = crc32.Update(crc, spillCRC, []byte(e.PubsubTopic))
	crc = crc32.Update(crc, spillCRC, ts[:])
	crc = crc32.Update(crc, spillCRC, e.Raw)
	binary.LittleEndian.PutUint32(hdr[4:], crc)
	s.bw.Write(hdr[:])
	s.bw.WriteString(e.PubsubTopic)
	s.bw.Write(ts[:])
	if _, err := s.bw.Write(e.Raw); err != nil {
		return fmt.Errorf("archive spill write: %w", err)
	}
	last.size += n
	last.count++
	s.size += n
	return nil
}

// closeWriter flushes and syncs the segment being appended to and closes it.
func (s *spill) closeWriter() error {
	if s.w == nil {
		return nil
	}
	err := s.bw.Flush()
	if err == nil {
		err = s.w.Sync()
	}
	if cerr := s.w.Close(); err == nil {
		err = cerr
	}
	s.w, s.bw = nil, nil
	if err != nil {
		return fmt.Errorf("archive spill: %w", err)
	}
	return nil
}

// discardWriter closes the segment being appended to without syncing it (it is to be deleted,
// or its appends failed).
func (s *spill) discardWriter() {
	if s.w != nil {
		s.w.Close()
		s.w, s.bw = nil, nil
	}
}

// readable flushes buffered appends and returns the segment to read from, how far it can be
// read, how many records it holds and the segment after it (0: none yet). Caller holds the
// queue's lock. A segment whose appends failed to reach the disk is closed off: its unflushed
// tail is lost, which the caller learns from a count beyond what the limit holds.
func (s *spill) readable() (seg spillSeg, next uint64, err error) {
	if s.bw != nil && s.bw.Buffered() > 0 {
		if err = s.bw.Flush(); err != nil {
			s.discardWriter() // the next append starts a new segment
			err = fmt.Errorf("archive spill write: %w", err)
		}
	}
	if s.rseg == 0 && len(s.segs) > 0 {
		s.rseg = s.segs[0].num
	}
	for i, sg := range s.segs {
		if sg.num == s.rseg {
			if i+1 < len(s.segs) {
				next = s.segs[i+1].num
			}
			return sg, next, err
		}
	}
	return spillSeg{num: s.rseg}, 0, err
}

// read appends to batch up to maxN records (maxBytes, at least one) from segment seg, which
// is readable up to seg.size; it reports false when the segment is exhausted.
func (s *spill) read(batch []*message.Envelope, seg spillSeg, maxN int, maxBytes int64) ([]*message.Envelope, bool, error) {
	if s.r == nil {
		f, err := os.Open(s.path(seg.num))
		if err != nil {
			return batch, false, fmt.Errorf("archive spill: %w", err)
		}
		s.r = f
	}
	br := bufio.NewReaderSize(io.NewSectionReader(s.r, s.roff, seg.size-s.roff), 256<<10)
	var size int64
	for n := 0; n < maxN && s.roff < seg.size; n++ {
		e, k, err := readSpillRecord(br)
		if err != nil {
			return batch, false, err
		}
		if n > 0 && size+entrySize(e) > maxBytes {
			return batch, true, nil
		}
		size += entrySize(e)
		batch = append(batch, e)
		s.roff += k
		s.rcnt++
	}
	return batch, s.roff < seg.size, nil
}

// advance moves the reader to segment next.
func (s *spill) advance(next uint64) {
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	s.rseg, s.roff, s.rcnt = next, 0, 0
}

// release drops the segments wholly before pos, whose messages are committed (caller holds
// the queue's lock). With empty set (nothing left to read), every segment goes and appends
// start a fresh one. It returns the dropped segments' files for the caller to remove after
// unlocking: unlinking many megabytes under the lock held up every Insert meanwhile, longer
// still on a writer thread of lower priority.
func (s *spill) release(pos spillPos, empty bool) (gone []string, err error) {
	for len(s.segs) > 1 && s.segs[0].num < pos.seg {
		gone = append(gone, s.path(s.segs[0].num))
		s.size -= s.segs[0].size
		s.segs = s.segs[1:]
	}
	if !empty {
		return gone, nil
	}
	next := s.segs[len(s.segs)-1].num + 1
	s.advance(0)
	s.discardWriter()
	for _, sg := range s.segs {
		gone = append(gone, s.path(sg.num))
	}
	s.segs, s.size = nil, 0
	return gone, s.startSegment(next)
}

// close flushes what is buffered to disk; the segments stay for the next start.
func (s *spill) close() error {
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	return s.closeWriter()
}

// readSpillRecord reads one record, returning the envelope and the bytes it took.
func readSpillRecord(r io.Reader) (*message.Envelope, int64, error) {
	var hdr [spillHeader]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, err
	}
	n := binary.LittleEndian.Uint32(hdr[0:])
	if n < 10 || n > 1<<30 {
		return nil, 0, fmt.Errorf("archive spill: bad record length %d", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(p, spillCRC) != binary.LittleEndian.Uint32(hdr[4:]) {
		return nil, 0, errors.New("archive spill: record checksum mismatch")
	}
	tl := int(binary.LittleEndian.Uint16(p))
	if 2+tl+8 > len(p) {
		return nil, 0, errors.New("archive spill: bad topic length")
	}
	topic := string(p[2 : 2+tl])
	at := int64(binary.LittleEndian.Uint64(p[2+tl:]))
	e, err := message.Decode(topic, p[2+tl+8:], at)
	if err != nil {
		return nil, 0, fmt.Errorf("archive spill: %w", err)
	}
	return e, int64(spillHeader) + int64(n), nil
}

// takeSpill moves up to maxN spilled entries (maxBytes, at least one) from the oldest segment
// into batch, counting them as held like entries taken from memory. Records a failing disk
// kept from the spill are reported as lost (with the error); they are resolved already.
func (q *queue) takeSpill(batch []*message.Envelope, maxN int, maxBytes int64) (_ []*message.Envelope, pos spillPos, lost int, err error) {
	sp := q.sp
	q.mu.Lock()
	if q.spilled == 0 {
		q.mu.Unlock()
		return batch, pos, 0, nil
	}
	seg, next, ferr := sp.readable()
	q.mu.Unlock()
	before := len(batch)
	batch, more, rerr := sp.read(batch, seg, maxN, maxBytes)
	n := len(batch) - before
	err = errors.Join(ferr, rerr)
	// A segment read to its end, or to a record that cannot be read (its appends failed to
	// reach the disk, or it was damaged), is done with: what it counted beyond is lost.
	tornTail := false
	if !more || rerr != nil {
		lost = seg.count - sp.rcnt
		switch {
		case next != 0:
			sp.advance(next)
		case lost > 0:
			sp.advance(seg.num + 1)
			tornTail = true
		}
	}
	pos = spillPos{seg: sp.rseg, off: sp.roff}
	size := batchSize(batch[before:])
	q.mu.Lock()
	if tornTail && len(sp.segs) > 0 && sp.segs[len(sp.segs)-1].num == seg.num {
		sp.discardWriter() // appends continue in a new segment, where the reader now is
	}
	q.spilled -= n + lost
	q.held += n + lost
	q.bytes += size
	q.mu.Unlock()
	if lost > 0 {
		q.resolve(lost, 0, err)
	}
	return batch, pos, lost, err
}

// releaseSpill frees the spill behind pos once the batch read up to it is committed.
func (q *queue) releaseSpill(pos spillPos) error {
	q.mu.Lock()
	gone, err := q.sp.release(pos, q.spilled == 0)
	q.mu.Unlock()
	for _, path := range gone {
		err = errors.Join(err, os.Remove(path))
	}
	return err
}

// closeSpill flushes the spill to disk for the next start.
func (q *queue) closeSpill() error {
	if q.sp == nil {
		return nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.sp.close()
}

// spillStats returns the messages and bytes in the spill.
func (q *queue) spillStats() (n int, bytes int64) {
	if q.sp == nil {
		return 0, 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.spilled, q.sp.size
}
