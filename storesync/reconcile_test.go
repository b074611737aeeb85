package storesync

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

const (
	hour = int64(time.Hour)
	tpc  = "/waku/2/rs/1/0"
	ct   = "/app/1/chat/proto"
)

func hashOf(i int) message.Hash {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return sha(string(b[:]))
}

func newSession(ix *Index, topics ...string) *session {
	return &session{mu: &sync.Mutex{}, ix: ix, pubsubTopics: topics, threshold: DefaultThreshold, partitions: DefaultPartitions}
}

// converse runs a whole exchange in memory, through the codec, and returns the frames each
// side received and the number of bytes exchanged.
func converse(t testing.TB, client, server *session, start, end int64) (frames, bytes int) {
	t.Helper()
	frame := client.initial(start, end)
	from, to := client, server
	for {
		bytes += len(frame)
		reply, done, err := to.handle(frame)
		if err != nil {
			t.Fatalf("handle: %v", err)
		}
		if reply != nil {
			bytes += len(reply)
		}
		if done {
			if reply != nil {
				if _, _, err := from.handle(reply); err != nil {
					t.Fatalf("final handle: %v", err)
				}
			}
			return client.received + server.received, bytes
		}
		if frames++; frames > 100 {
			t.Fatal("exchange does not end")
		}
		frame, from, to = reply, to, from
	}
}

func fill(ix *Index, t0 int64, ids ...int) {
	for _, i := range ids {
		ix.Insert(ID{Time: t0 + int64(i), Hash: hashOf(i)}, tpc, ct)
	}
}

func hashes(ids []ID) map[message.Hash]bool {
	m := map[message.Hash]bool{}
	for _, id := range ids {
		m[id.Hash] = true
	}
	return m
}

func TestSyncBothEmpty(t *testing.T) {
	c, s := newSession(&Index{}, tpc), newSession(&Index{}, tpc)
	converse(t, c, s, vecT0, vecT0+hour)
	if len(c.diff.ToSend)+len(s.diff.ToSend) != 0 {
		t.Fatalf("queued %d/%d", len(c.diff.ToSend), len(s.diff.ToSend))
	}
}

func TestSyncOneSided(t *testing.T) {
	now := vecT0 + hour/2
	for _, serverFull := range []bool{true, false} {
		full, empty := &Index{}, &Index{}
		fill(full, now, 0, 1, 2)
		cIx, sIx := empty, full
		if !serverFull {
			cIx, sIx = full, empty
		}
		c, s := newSession(cIx, tpc), newSession(sIx, tpc)
		converse(t, c, s, vecT0, vecT0+hour)
		holder, other := s, c
		if !serverFull {
			holder, other = c, s
		}
		got := hashes(holder.diff.ToSend)
		if len(holder.diff.ToSend) != 3 || !got[hashOf(0)] || !got[hashOf(1)] || !got[hashOf(2)] || len(other.diff.ToSend) != 0 {
			t.Fatalf("serverFull=%v: holder queued %v, other %v", serverFull, holder.diff.ToSend, other.diff.ToSend)
		}
	}
}

func TestSyncBothSided(t *testing.T) {
	now := vecT0 + hour/2
	sIx, cIx := &Index{}, &Index{}
	fill(sIx, now, 1, 2)
	fill(cIx, now, 1, 3)
	c, s := newSession(cIx, tpc), newSession(sIx, tpc)
	converse(t, c, s, vecT0, vecT0+hour)
	if len(s.diff.ToSend) != 1 || s.diff.ToSend[0].Hash != hashOf(2) || len(c.diff.ToSend) != 1 || c.diff.ToSend[0].Hash != hashOf(3) {
		t.Fatalf("server sends %v, client sends %v", s.diff.ToSend, c.diff.ToSend)
	}
}

func TestSyncIdenticalEndsAfterFingerprint(t *testing.T) {
	sIx, cIx := &Index{}, &Index{}
	fill(sIx, vecT0+1000, 1, 2, 3)
	fill(cIx, vecT0+1000, 1, 2, 3)
	c, s := newSession(cIx, tpc), newSession(sIx, tpc)
	reply, done, err := s.handle(c.initial(vecT0, vecT0+hour))
	if err != nil || !done || len(reply) != 1 || reply[0] != 0 {
		t.Fatalf("reply %x done %v err %v", reply, done, err)
	}
	if _, done, _ := c.handle(reply); !done {
		t.Fatal("initiator continues after 00")
	}
	if len(s.diff.ToSend)+len(c.diff.ToSend) != 0 {
		t.Fatal("identical stores queued transfers")
	}
}

func TestSyncShardOverlap(t *testing.T) {
	rs := func(s int) string { return fmt.Sprintf("/waku/2/rs/2/%d", s) }
	now := vecT0 + hour/2
	sIx, cIx := &Index{}, &Index{}
	for i, sh := range []int{1, 2, 3} {
		sIx.Insert(ID{Time: now + int64(i), Hash: hashOf(100 + sh)}, rs(sh), ct)
	}
	for i, sh := range []int{4, 5, 6} {
		cIx.Insert(ID{Time: now + int64(i), Hash: hashOf(100 + sh)}, rs(sh), ct)
	}
	s := newSession(sIx, rs(1), rs(2), rs(3), rs(4))
	c := newSession(cIx, rs(3), rs(4), rs(5), rs(6))
	s.contentTopics, c.contentTopics = []string{ct}, []string{ct}
	converse(t, c, s, vecT0, vecT0+hour)
	if len(s.diff.ToSend) != 1 || s.diff.ToSend[0].Hash != hashOf(103) || len(c.diff.ToSend) != 1 || c.diff.ToSend[0].Hash != hashOf(104) {
		t.Fatalf("server sends %v, client sends %v", s.diff.ToSend, c.diff.ToSend)
	}
	// Disjoint shard sets: one empty frame and the end.
	d := newSession(&Index{}, rs(9))
	reply, done, err := d.handle(c.initial(vecT0, vecT0+hour))
	if err != nil || !done || reply == nil || len(reply) != 0 {
		t.Fatalf("disjoint: reply %x done %v err %v", reply, done, err)
	}
}

// §13.7: scale cases. Differences are messages only one side holds.
func TestSyncScale(t *testing.T) {
	cases := []struct {
		n, diffs  int
		window    int64
		min, max_ int
	}{
		{100_000, 1, hour, 1, 1},
		{10_000, 1_000, hour, 900, 1_000},
		{100, 20, int64(time.Second), 20, 20},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d-%d", tc.n, tc.diffs), func(t *testing.T) {
			if testing.Short() && tc.n > 10_000 {
				t.Skip("large")
			}
			sIx, cIx := &Index{}, &Index{}
			step := tc.window / int64(tc.n+1)
			for i := range tc.n {
				id := ID{Time: vecT0 + int64(i+1)*step, Hash: hashOf(i)}
				sIx.Insert(id, tpc, ct)
				if i%(tc.n/tc.diffs) != 0 || i/(tc.n/tc.diffs) >= tc.diffs {
					cIx.Insert(id, tpc, ct)
				}
			}
			c, s := newSession(cIx, tpc), newSession(sIx, tpc)
			frames, _ := converse(t, c, s, vecT0, vecT0+tc.window)
			got := len(s.diff.ToSend)
			if got < tc.min || got > tc.max_ || len(c.diff.ToSend) != 0 {
				t.Fatalf("server queued %d (want %d..%d), client %d", got, tc.min, tc.max_, len(c.diff.ToSend))
			}
			for _, id := range s.diff.ToSend {
				if cIx.has(id) {
					t.Fatalf("queued %v the client has", id)
				}
			}
			t.Logf("%d frames", frames)
		})
	}
}

// §13.8: same timestamp, hashes sharing an 8-byte prefix, are distinct and never merged.
func TestSyncSameTimestampSharedPrefix(t *testing.T) {
	ts := vecT0 + hour/2
	h1, h2 := hashOf(1), hashOf(1)
	h2[31] ^= 1
	sIx, cIx := &Index{}, &Index{}
	sIx.Insert(ID{ts, h1}, tpc, ct)
	if !cIx.Insert(ID{ts, h2}, tpc, ct) {
		t.Fatal("insert")
	}
	c, s := newSession(cIx, tpc), newSession(sIx, tpc)
	converse(t, c, s, vecT0, vecT0+hour)
	if len(s.diff.ToSend) != 1 || s.diff.ToSend[0].Hash != h1 || len(c.diff.ToSend) != 1 || c.diff.ToSend[0].Hash != h2 {
		t.Fatalf("server sends %v, client sends %v", s.diff.ToSend, c.diff.ToSend)
	}
	both := &Index{}
	both.Insert(ID{ts, h2}, tpc, ct)
	both.Insert(ID{ts, h1}, tpc, ct)
	if both.Len() != 2 || both.ids(0, 2, &filter{all: true})[0].Hash != h1 {
		t.Fatal("same-timestamp elements merged or misordered")
	}
}

// §13.9 and §13.10: out-of-window elements are ignored; a duplicate insert is stored once.
func TestSyncWindowAndDuplicates(t *testing.T) {
	sIx := &Index{}
	in := ID{Time: vecT0 + hour/2, Hash: hashOf(7)}
	sIx.Insert(ID{}, tpc, ct)
	sIx.Insert(ID{Time: vecT0 + 10*365*24*hour, Hash: hashOf(8)}, tpc, ct)
	sIx.Insert(in, tpc, ct)
	if sIx.Insert(in, tpc, ct) || sIx.Len() != 3 {
		t.Fatalf("duplicate stored: len %d", sIx.Len())
	}
	c, s := newSession(&Index{}, tpc), newSession(sIx, tpc)
	converse(t, c, s, vecT0, vecT0+hour)
	if len(s.diff.ToSend) != 1 || s.diff.ToSend[0] != in {
		t.Fatalf("queued %v", s.diff.ToSend)
	}
}
