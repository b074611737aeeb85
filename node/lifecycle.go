package node

import (
	"context"
	"errors"
)

// ErrStopped is returned by Start after Stop: a node is not restartable.
var ErrStopped = errors.New("node is stopped")

// lifecycle is the node's state machine: new → starting → running → stopping → stopped (a failed
// Start goes from starting to stopped). Transitions happen under Node.mu, but the slow work
// between them (opening the database, migrations, VACUUM, closing the host, waiting for
// goroutines) runs without it, so nothing a node-owned goroutine or a caller does can deadlock
// against Start or Stop.
type lifecycle int

const (
	stateNew lifecycle = iota
	stateStarting
	stateRunning
	stateStopping
	stateStopped
)

// Start builds the host and mounts the protocols. It is not restartable after Stop.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	switch n.state {
	case stateNew:
	case stateStopping, stateStopped:
		n.mu.Unlock()
		return ErrStopped
	default:
		n.mu.Unlock()
		return ErrAlreadyStarted
	}
	n.state = stateStarting
	n.mu.Unlock()

	// Stop during Start cancels n.ctx, which aborts the slow work (database open, dials).
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(n.ctx, cancel)()
	err := n.start(ctx)
	n.mu.Lock()
	if err == nil && n.state == stateStarting {
		n.state = stateRunning
		n.mu.Unlock()
		close(n.startDone)
		return nil
	}
	stopRequested := n.state != stateStarting
	n.state = stateStopping
	n.mu.Unlock()
	close(n.startDone)
	if stopRequested && err == nil {
		err = ErrStopped // Stop was called while we started: it waits for this teardown
	}
	n.teardown()
	return err
}

// ready tells whether Start's work is over, so the component fields may be read.
func (n *Node) ready() bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.state > stateStarting
}

// Stop shuts everything down and waits for every goroutine the node started. It never holds
// the node's lock while waiting. Called during Start, it makes Start fail and waits for it.
func (n *Node) Stop() error {
	n.mu.Lock()
	switch n.state {
	case stateNew:
		n.state = stateStopped
		n.mu.Unlock()
		n.cancel()
		close(n.stopDone)
		return nil
	case stateStarting:
		n.state = stateStopping // Start sees this when its work ends and tears down
		n.mu.Unlock()
		n.cancel()
		<-n.startDone
		<-n.stopDone
		return nil
	case stateStopping, stateStopped:
		n.mu.Unlock()
		<-n.stopDone
		return nil
	}
	n.state = stateStopping
	n.mu.Unlock()
	return n.teardown()
}

// teardown cancels the node's context, runs the stop functions in reverse order and waits for
// the node-owned goroutines; then the node is stopped.
func (n *Node) teardown() error {
	n.cancel()
	var errs []error
	for i := len(n.stops) - 1; i >= 0; i-- {
		if err := n.stops[i](); err != nil {
			errs = append(errs, err)
		}
	}
	n.stops = nil
	n.wg.Wait()
	n.mu.Lock()
	n.state = stateStopped
	n.mu.Unlock()
	close(n.stopDone)
	return errors.Join(errs...)
}

func (n *Node) onStop(f func() error) { n.stops = append(n.stops, f) }

// goOwned runs f as a goroutine owned by the node: Stop cancels ctx and waits for it.
func (n *Node) goOwned(f func(ctx context.Context)) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f(n.ctx)
	}()
}
