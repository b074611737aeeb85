// Package procs sizes the Go scheduler (GOMAXPROCS) to the node's load: one P while the node
// is nearly idle, the runtime's default under load, and one P more than the CPUs while the
// archive writer is busy.
//
// Why one P at light load: every goroutine a message wakes on another P costs a thread
// wake-up, and the runtime's sysmon thread polls every 20 µs while any P is busy after a
// syscall; at 10 msg/s those wake-ups and the scheduler's search for work were about a third
// of the node's CPU (docs/benchmarks.md, "Where the CPU goes at low rates"). With one P a
// message runs on one thread from socket to socket. Above HeavyAbove the runtime's default is
// back at the next Interval, since one P lets a store commit or a query hold up relaying.
package procs

import (
	"log/slog"
	"runtime"
	"sync"
	"time"
)

// Runtime is the GOMAXPROCS control (functions, so that tests can stand in for the runtime).
type Runtime struct {
	Get    func() int // the GOMAXPROCS in force
	Set    func(int)
	Reset  func() // back to the runtime's default, which follows CPU and cgroup limits
	NumCPU func() int
}

// System is the Go runtime's control.
func System() Runtime {
	return Runtime{Get: func() int { return runtime.GOMAXPROCS(0) }, Set: func(n int) { runtime.GOMAXPROCS(n) },
		Reset: runtime.SetDefaultGOMAXPROCS, NumCPU: runtime.NumCPU}
}

// Defaults for Config.
const (
	DefaultInterval   = time.Second
	DefaultLightBelow = 0.06 // cores: 1 KB x 100 msg/s used 0.02–0.04, 1,000 msg/s 0.14–0.2
	DefaultHeavyAbove = 0.1
	DefaultLightAfter = 3
)

// Config sets a Governor up; zero fields take the defaults.
type Config struct {
	// Interval is how often the load is measured (a getrusage call).
	Interval time.Duration
	// LightBelow: after LightAfter Intervals in a row under this many cores, the node runs one P.
	LightBelow float64
	LightAfter int
	// HeavyAbove: one Interval over this many cores brings the runtime's default back.
	HeavyAbove float64
	// CPUTime is the process's CPU time so far (default: getrusage); an error disables the
	// light-load P.
	CPUTime func() (time.Duration, error)
	Runtime Runtime // default System()
	Logger  *slog.Logger
}

func (c *Config) fill() {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.LightBelow <= 0 {
		c.LightBelow = DefaultLightBelow
	}
	if c.HeavyAbove <= 0 {
		c.HeavyAbove = DefaultHeavyAbove
	}
	if c.LightAfter <= 0 {
		c.LightAfter = DefaultLightAfter
	}
	if c.CPUTime == nil {
		c.CPUTime = processCPU
	}
	if c.Runtime.Get == nil {
		c.Runtime = System()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Governor sets GOMAXPROCS from the measured load and the writer's busy spells. Start begins
// measuring; Stop ends it and gives the runtime its default back.
type Governor struct {
	cfg Config

	mu         sync.Mutex
	light      bool
	lightRun   int  // Intervals in a row under LightBelow
	writerBusy bool // set by WriterBusy
	def        int  // the runtime's default, read whenever it is in force
	applied    int  // what we set; 0 while the default is in force

	stop, done chan struct{}
}

// New returns a Governor, or nil when the operator set GOMAXPROCS (getenv("GOMAXPROCS") not
// empty): that setting is left alone. A nil Governor's methods do nothing.
func New(cfg Config, getenv func(string) string) *Governor {
	if getenv("GOMAXPROCS") != "" {
		return nil
	}
	cfg.fill()
	return &Governor{cfg: cfg, def: cfg.Runtime.Get()}
}

// Start measures the load every Interval on a goroutine of its own until Stop.
func (g *Governor) Start() {
	if g == nil || g.stop != nil {
		return
	}
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go g.run()
}

// Stop ends the measuring and restores the runtime's default.
func (g *Governor) Stop() {
	if g == nil {
		return
	}
	if g.stop != nil {
		close(g.stop)
		<-g.done
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.light, g.writerBusy = false, false
	g.apply()
}

func (g *Governor) run() {
	defer close(g.done)
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	last, err := g.cfg.CPUTime()
	lastAt := time.Now()
	for err == nil {
		select {
		case <-g.stop:
			return
		case now := <-t.C:
			var cpu time.Duration
			if cpu, err = g.cfg.CPUTime(); err == nil {
				g.Observe((cpu - last).Seconds() / now.Sub(lastAt).Seconds())
				last, lastAt = cpu, now
			}
		}
	}
	// Without a load to follow, the default is the safe size; the busy hook still works.
	g.cfg.Logger.Warn("scheduler sizing: cannot read the process's CPU time; keeping the runtime's default", "err", err)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.light = false
	g.apply()
}

// Observe takes one Interval's load in cores.
func (g *Governor) Observe(cores float64) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case cores > g.cfg.HeavyAbove:
		g.lightRun = 0
		if g.light {
			g.light = false
			g.cfg.Logger.Debug("scheduler sizing: load, the runtime's default Ps", "cores", cores)
		}
	case cores < g.cfg.LightBelow:
		g.lightRun++
		if !g.light && g.lightRun >= g.cfg.LightAfter {
			g.light = true
			g.cfg.Logger.Debug("scheduler sizing: light load, one P", "cores", cores)
		}
	default:
		g.lightRun = 0
	}
	g.apply()
}

// WriterBusy is the archive writer's busy hook (archive.Config.Busy): while the writer commits
// most of the time, the node runs one P more than the CPUs. The writer's thread holds a P
// whenever it runs; while the kernel runs other threads first (a writer of lower priority,
// --store-writer-nice, or a full machine) that P sits idle and relaying is a core short. With
// one P more, the kernel alone decides between them. A fixed extra P cost 15 % more CPU at
// 1,000 msg/s (docs/benchmarks-history.md, session 14), hence only during a busy spell.
func (g *Governor) WriterBusy(busy bool) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if busy == g.writerBusy {
		return
	}
	g.writerBusy = busy
	before := g.applied
	g.apply()
	if g.applied != before {
		g.cfg.Logger.Info("store writer busy", "busy", busy, "gomaxprocs", g.cfg.Runtime.Get())
	}
}

// apply sets GOMAXPROCS for the current state; called with mu held.
func (g *Governor) apply() {
	want := 0 // the runtime's default
	switch {
	// A default below the CPUs is a cgroup quota, which throttles a process that runs more
	// threads than it allows: no extra P then.
	case g.writerBusy && g.def == g.cfg.Runtime.NumCPU():
		want = g.def + 1
	case g.light && g.def > 1:
		want = 1
	}
	switch {
	case want == g.applied:
	case want == 0:
		g.cfg.Runtime.Reset()
		g.def, g.applied = g.cfg.Runtime.Get(), 0
	default:
		g.cfg.Runtime.Set(want)
		g.applied = want
	}
}
