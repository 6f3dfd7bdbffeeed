package nodetls

import (
	"sync"
	"time"
)

// deadline is one direction's deadline of a Conn: a channel that is closed once the
// deadline has passed, so a waiting Read or Write can select on it next to its wake-up.
// Setting a new deadline re-arms it, also while a call waits (as net.Conn requires).
type deadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	expired chan struct{} // closed when the deadline passes; replaced when re-armed
}

func newDeadline() *deadline { return &deadline{expired: make(chan struct{})} }

// set arms the deadline at t (zero: none; the past: expired now).
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.expired // the timer fired (or is firing): wait until its close is done
	}
	d.timer = nil
	if isClosed(d.expired) {
		d.expired = make(chan struct{})
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.expired)
		return
	}
	ch := d.expired
	d.timer = time.AfterFunc(wait, func() { close(ch) })
}

// wait is the channel to select on: closed once the current deadline has passed.
func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

// passed reports whether the deadline has passed.
func (d *deadline) passed() bool { return isClosed(d.wait()) }

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
