package accounting

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// BalanceStore persists ledger records so balances survive restarts. DBStore (OpenStore)
// is the one the node uses, in the archive's database.
type BalanceStore interface {
	LoadBalances(ctx context.Context) ([]Snapshot, error)
	// SaveBalances upserts the given records (one transaction).
	SaveBalances(ctx context.Context, recs []Snapshot) error
}

// Persister flushes a ledger to its store every interval, and once more at Stop, so the hot
// path never touches the database.
type Persister struct {
	ledger   *Ledger
	store    BalanceStore
	interval time.Duration
	log      *slog.Logger

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// NewPersister returns a stopped persister (interval 0 = 10 s).
func NewPersister(l *Ledger, st BalanceStore, interval time.Duration, log *slog.Logger) *Persister {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Persister{ledger: l, store: st, interval: interval, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Start launches the flush loop. Stop must be called.
func (p *Persister) Start() {
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.flush()
			}
		}
	}()
}

func (p *Persister) flush() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.ledger.Flush(ctx, p.store); err != nil {
		p.log.Warn("accounting: flush failed, will retry", "err", err)
	}
}

// Stop ends the loop and writes what is left. Safe to call twice.
func (p *Persister) Stop() {
	p.once.Do(func() {
		close(p.stop)
		<-p.done
		p.flush()
	})
}
