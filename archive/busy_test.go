package archive

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/wakunode/wakunode/message"
)

func TestBusyMeterSpells(t *testing.T) {
	var got []bool
	t0 := time.Unix(1_000, 0)
	m := newBusyMeter(func(b bool) { got = append(got, b) }, t0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	commit := func(from, to float64) { m.committed(at(from), at(to)) }

	commit(0.1, 0.3) // 40 % of the first second
	commit(0.8, 1.0)
	if len(got) != 0 || m.check() != nil {
		t.Fatalf("a window of 40%% committing started a spell: %v", got)
	}
	commit(1.0, 1.7) // 70 % of the next second
	commit(1.8, 2.0)
	if !slices.Equal(got, []bool{true}) || m.check() == nil {
		t.Fatalf("a second 90%% busy: reports %v, want [true] and a check timer", got)
	}
	commit(2.5, 2.6)  // the window is not over yet
	commit(3.0, 3.05) // 15 % of 1.05 s: quiet
	commit(4.0, 4.5)  // 34 % of 1.45 s: the quiet run starts over
	m.tick(at(5.6))   // idle from here on: quiet
	m.tick(at(6.7))   // quiet
	if !slices.Equal(got, []bool{true}) {
		t.Fatalf("two quiet windows after a busy one ended the spell: %v", got)
	}
	m.tick(at(7.8))
	if !slices.Equal(got, []bool{true, false}) || m.check() != nil {
		t.Fatalf("three quiet windows in a row: reports %v, want [true false] and no timer", got)
	}
	m.end() // not in a spell: nothing to report
	if len(got) != 2 {
		t.Fatalf("end outside a spell reported: %v", got)
	}
}

func TestBusyMeterWithoutListener(t *testing.T) {
	m := newBusyMeter(nil, time.Unix(0, 0))
	m.committed(time.Unix(0, 0), time.Unix(10, 0))
	if m.check() != nil {
		t.Fatal("a meter nobody listens to armed a timer")
	}
	m.end()
}

// slowDriver makes every commit take at least delay, as a database that cannot keep up.
type slowDriver struct {
	driver
	delay time.Duration
}

func (s *slowDriver) insertBatch(ctx context.Context, batch []*message.Envelope, storedAt int64) (int64, error) {
	time.Sleep(s.delay)
	return s.driver.insertBatch(ctx, batch, storedAt)
}

// The writer reports a busy spell while messages keep it committing, its end once they stop,
// and at Close the end of a spell still on.
func TestWriterReportsBusySpells(t *testing.T) {
	busy := make(chan bool, 8)
	cfg := Config{URL: backends()[0].url(t), Migrate: true, Now: func() time.Time { return testNow }, MaxConns: 4,
		Logger: slog.New(slog.DiscardHandler), Busy: func(b bool) { busy <- b }}
	a, err := openWith(context.Background(), cfg, func(d driver) driver { return &slowDriver{driver: d, delay: 400 * time.Millisecond} })
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	feed := func(from int, until <-chan bool) (next int) {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		deadline := time.NewTimer(30 * time.Second)
		defer deadline.Stop()
		for i := from; ; i += 2 {
			select {
			case b := <-until:
				if !b {
					t.Fatal("busy spell ended while messages kept the writer committing")
				}
				return i
			case <-tick.C:
				for j := i; j < i+2; j++ {
					e := env(t, "/waku/2/rs/1/0", "/app/1/chat/proto", testNow.UnixNano()+int64(j), fmt.Sprint(j))
					if err := a.Insert(e); err != nil {
						t.Fatal(err)
					}
				}
			case <-deadline.C:
				t.Fatal("no busy spell in 30 s of commits that each take 400 ms")
			}
		}
	}
	n := feed(0, busy)
	select { // the load stopped
	case b := <-busy:
		if b {
			t.Fatal("a second start of a spell without an end")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the busy spell did not end in 20 s without messages")
	}
	feed(n, busy)
	a.Close()
	select {
	case b := <-busy:
		if b {
			t.Fatal("Close reported a spell's start")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close during a busy spell did not report its end")
	}
}
