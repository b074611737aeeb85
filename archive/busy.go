package archive

import "time"

// The writer tells Config.Busy when it starts and stops committing for most of its time, so the
// process can make room for it while that lasts (cmd/wakunode runs one scheduler P more than
// the cores: a writer that holds a P while the kernel runs relaying first would otherwise leave
// relaying a core short). A spell starts after a second spent mostly committing and ends after
// three quiet seconds in a row, so the hook is not toggled at every batch.
const (
	busyWindow    = time.Second
	busyOnShare   = 0.5  // a window this much spent committing starts a spell
	busyOffShare  = 0.25 // windows below this share ...
	busyOffWindow = 3    // ... this many in a row end it
)

// busyMeter measures the share of wall time the writer spends committing, window by window.
// It is used by the writer's goroutine only.
type busyMeter struct {
	report func(busy bool) // nil: nobody listens, the meter does nothing
	start  time.Time       // the current window's start
	busy   time.Duration   // committing in the current window
	quiet  int             // windows in a row below busyOffShare during a spell
	// timer is set during a spell (and only then): it ends a spell whose load stopped, which
	// no commit would.
	timer *time.Timer
}

func newBusyMeter(report func(bool), now time.Time) *busyMeter {
	return &busyMeter{report: report, start: now}
}

// committed adds a commit that ran from from to to.
func (m *busyMeter) committed(from, to time.Time) {
	if m.report == nil {
		return
	}
	m.busy += to.Sub(from)
	m.closeWindow(to)
}

// check is the channel that fires during a spell, so that the writer, idle once the load
// has stopped, still closes the quiet windows that end it; nil (never ready) otherwise.
func (m *busyMeter) check() <-chan time.Time {
	if m.timer == nil {
		return nil
	}
	return m.timer.C
}

// tick closes the window after check fired.
func (m *busyMeter) tick(now time.Time) {
	m.closeWindow(now)
	if m.timer != nil {
		m.timer.Reset(busyWindow)
	}
}

// closeWindow ends the current window if it has lasted busyWindow, and reports a spell's start
// or end.
func (m *busyMeter) closeWindow(now time.Time) {
	span := now.Sub(m.start)
	if span < busyWindow {
		return
	}
	share := float64(m.busy) / float64(span)
	m.start, m.busy = now, 0
	switch spell := m.timer != nil; {
	case !spell && share >= busyOnShare:
		m.quiet = 0
		m.timer = time.NewTimer(busyWindow)
		m.report(true)
	case spell && share < busyOffShare:
		if m.quiet++; m.quiet >= busyOffWindow {
			m.end()
		}
	case spell:
		m.quiet = 0
	}
}

// end reports the end of a spell in progress (also when the writer stops).
func (m *busyMeter) end() {
	if m.timer == nil {
		return
	}
	m.timer.Stop()
	m.timer = nil
	m.report(false)
}
