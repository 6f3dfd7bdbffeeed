package nodetls

import (
	"log"
	"runtime/debug"
	"sync"
)

// listeners holds one event's listeners. A sticky event remembers its latest value, so a
// listener added afterwards still gets it (once, on the loop thread): events come from
// the loop thread while the caller may still be adding listeners, and one-shot events
// such as close must not be missed.
type listeners[T any] struct {
	sticky bool
	fired  bool
	last   T
	fns    []func(T)
}

// add registers fn; mu guards every listener list of one object.
func (l *listeners[T]) add(mu *sync.Mutex, fn func(T)) {
	mu.Lock()
	// A new array each time: emit reads the slice without copying it (copy-on-write).
	l.fns = append(l.fns[:len(l.fns):len(l.fns)], fn)
	replay, last := l.sticky && l.fired, l.last
	mu.Unlock()
	if replay {
		callSoon(func() { safeCall(func() { fn(last) }) })
	}
}

// emit calls the listeners with v, on the loop thread; reports whether there were any.
func (l *listeners[T]) emit(mu *sync.Mutex, v T) bool {
	mu.Lock()
	if l.sticky {
		l.fired, l.last = true, v
	}
	fns := l.fns // never changed in place (see add), so no copy per event
	mu.Unlock()
	for _, fn := range fns {
		safeCall(func() { fn(v) })
	}
	return len(fns) > 0
}

// safeCall keeps a listener's panic from unwinding into the library's C frames, which
// would kill the process; it is logged instead.
func safeCall(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			log.Printf("nodetls: listener panicked: %v\n%s", r, debug.Stack())
		}
	}()
	fn()
}

// none is the value of events without arguments.
type none = struct{}

// noArgs adapts a func() listener.
func noArgs(fn func()) func(none) { return func(none) { fn() } }
