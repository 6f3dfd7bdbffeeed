package nodetls

/*
#include "bridge.h"
*/
import "C"

import (
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Socket is a TLS connection: Connect's result, or a server's secureConnection.
// Its listeners run on the library's loop thread (see the package documentation).
type Socket struct {
	mu      sync.Mutex // guards ptr, reading, last
	ptr     *C.ntls_socket
	handle  cgo.Handle
	reading bool
	last    info

	evMu      sync.Mutex // guards the listener lists
	onSecure  listeners[none]
	onData    listeners[[]byte]
	onEnd     listeners[none]
	onDrain   listeners[none]
	onTimeout listeners[none]
	onError   listeners[*Error]
	onClose   listeners[bool]
}

// NewSocket makes an unstarted client socket: add listeners, then call Connect.
func NewSocket() (*Socket, error) {
	var p *C.ntls_socket
	if st := int(C.ntls_socket_new(nil, &p)); st < 0 {
		return nil, statusError(st, "")
	}
	return wrapSocket(p)
}

// wrapSocket takes over one reference to p and installs the trampolines.
func wrapSocket(p *C.ntls_socket) (*Socket, error) {
	s := &Socket{ptr: p}
	s.onSecure.sticky, s.onEnd.sticky, s.onError.sticky, s.onClose.sticky = true, true, true, true
	s.handle = cgo.NewHandle(s)
	if st := int(C.ntlsgo_socket_install(p, C.uintptr_t(s.handle))); st < 0 {
		s.release()
		return nil, statusError(st, "")
	}
	return s, nil
}

// Connect is tls.connect(options): a started socket. Options are Node's names ("host",
// "port", "ca", "servername", "rejectUnauthorized", "ALPNProtocols"...). Bad options fail
// here; later failures (ECONNREFUSED, certificate errors) arrive through OnError.
func Connect(opts Options) (*Socket, error) {
	s, err := NewSocket()
	if err != nil {
		return nil, err
	}
	if err := s.Connect(opts); err != nil {
		s.release() // never started, so no close event will come to release it
		return nil, err
	}
	return s, nil
}

// Connect starts an unstarted socket made by NewSocket.
func (s *Socket) Connect(opts Options) error {
	o, err := opts.cOptions()
	if err != nil {
		return err
	}
	return s.connect(o)
}

// connect starts the socket with options, which it releases.
func (s *Socket) connect(o *C.ntls_options) error {
	defer C.ntls_options_unref(o)
	return s.call(func(p *C.ntls_socket) C.int { return C.ntls_socket_connect(p, o) })
}

// OnSecureConnect adds a listener for the end of the client's handshake.
func (s *Socket) OnSecureConnect(fn func()) { s.onSecure.add(&s.evMu, noArgs(fn)) }

// OnData adds a listener for received bytes (the listener owns the slice). The first one
// starts reading.
func (s *Socket) OnData(fn func([]byte)) {
	s.onData.add(&s.evMu, fn)
	s.mu.Lock()
	first := !s.reading
	s.reading = true
	s.mu.Unlock()
	if first {
		s.call(func(p *C.ntls_socket) C.int { return C.ntlsgo_socket_start_reading(p) })
	}
}

// OnEnd adds a listener for the peer's end of sending.
func (s *Socket) OnEnd(fn func()) { s.onEnd.add(&s.evMu, noArgs(fn)) }

// OnDrain adds a listener for an emptied write buffer, after Write returned false.
func (s *Socket) OnDrain(fn func()) { s.onDrain.add(&s.evMu, noArgs(fn)) }

// OnTimeout adds a listener for idleness, as set by SetTimeout.
func (s *Socket) OnTimeout(fn func()) { s.onTimeout.add(&s.evMu, noArgs(fn)) }

// OnError adds a listener for a failure; close follows with hadError true.
func (s *Socket) OnError(fn func(*Error)) { s.onError.add(&s.evMu, fn) }

// OnClose adds a listener for the socket's last event.
func (s *Socket) OnClose(fn func(hadError bool)) { s.onClose.add(&s.evMu, fn) }

// Write queues b (copied); false means wait for drain, as Node's write().
func (s *Socket) Write(b []byte) (bool, error) { return s.WriteFunc(b, nil) }

// WriteFunc is Write with done(err) called on the loop thread once the bytes reached the
// kernel, or with the error that kept them from it.
func (s *Socket) WriteFunc(b []byte, done func(error)) (bool, error) {
	var arg cgo.Handle
	if done != nil {
		arg = cgo.NewHandle(done)
	}
	var st C.int
	err := s.call(func(p *C.ntls_socket) C.int {
		var buf unsafe.Pointer
		if len(b) > 0 {
			buf = unsafe.Pointer(&b[0]) // only for the call: the library copies
		}
		st = C.ntlsgo_socket_write(p, buf, C.size_t(len(b)), C.uintptr_t(arg))
		return st
	})
	if err != nil {
		if done != nil {
			arg.Delete() // a failed call never calls its callback
		}
		return false, err
	}
	return st == 1, nil
}

// End is socket.end(): close_notify after the queued data. Idempotent, as in Node.
func (s *Socket) End() error {
	return s.call(func(p *C.ntls_socket) C.int { return C.ntls_socket_end(p) }, statusEALREADY, statusECLOSED)
}

// Destroy closes now; pending writes fail with ECANCELED. Idempotent, as in Node.
func (s *Socket) Destroy() error {
	return s.call(func(p *C.ntls_socket) C.int { return C.ntls_socket_destroy(p) }, statusEALREADY, statusECLOSED)
}

// Pause stops reading, so TCP pushes back on the peer.
func (s *Socket) Pause() error {
	return s.call(func(p *C.ntls_socket) C.int { return C.ntls_socket_pause(p) })
}

// Resume reads again (and starts reading, even without an OnData listener).
func (s *Socket) Resume() error {
	return s.call(func(p *C.ntls_socket) C.int { return C.ntls_socket_resume(p) })
}

// SetTimeout is socket.setTimeout(ms): a timeout event after ms idle milliseconds; 0 disables.
func (s *Socket) SetTimeout(ms uint64) error {
	return s.call(func(p *C.ntls_socket) C.int { return C.ntls_socket_set_timeout(p, C.uint64_t(ms)) })
}

// Authorized reports whether the peer's certificate verified.
func (s *Socket) Authorized() bool { return s.info().authorized }

// AuthorizationError is Node's code for why it did not ("DEPTH_ZERO_SELF_SIGNED_CERT"), or "".
func (s *Socket) AuthorizationError() string { return s.info().authorizationError }

// Protocol is "TLSv1.3" or "TLSv1.2"; "" before the handshake.
func (s *Socket) Protocol() string { return s.info().protocol }

// Cipher is getCipher(); zero before the handshake.
func (s *Socket) Cipher() Cipher { return s.info().cipher }

// ALPNProtocol is the agreed protocol, or "" when none (Node's false).
func (s *Socket) ALPNProtocol() string { return s.info().alpn }

// Servername is the SNI name (asked for by the client, or sent by us), or "".
func (s *Socket) Servername() string { return s.info().servername }

// RemoteAddress is the peer's address; zero before connecting.
func (s *Socket) RemoteAddress() Address { return s.info().remote }

// LocalAddress is socket.address(); zero before connecting.
func (s *Socket) LocalAddress() Address { return s.info().local }

// BytesRead counts plaintext bytes received, as Node's TLSSocket.bytesRead does.
func (s *Socket) BytesRead() uint64 { return s.info().bytesRead }

// BytesWritten counts plaintext bytes written, as Node's TLSSocket.bytesWritten does.
func (s *Socket) BytesWritten() uint64 { return s.info().bytesWritten }

// borrow returns the handle with a reference of the caller's own (nil once released):
// the close event releases ours on the loop thread, possibly during another goroutine's
// call. The mutex is held only to take the reference, never across a C call.
func (s *Socket) borrow() *C.ntls_socket {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.ntls_socket_ref(s.ptr)
	}
	return s.ptr
}

// call runs fn on a borrowed handle; statuses in quiet are not errors.
func (s *Socket) call(fn func(p *C.ntls_socket) C.int, quiet ...int) error {
	p := s.borrow()
	if p == nil {
		return quietly(statusECLOSED, "socket is closed", quiet)
	}
	defer C.ntls_socket_unref(p)
	if st := int(fn(p)); st < 0 {
		return quietly(st, goStr(C.ntls_socket_last_error(p)), quiet)
	}
	return nil
}

func quietly(st int, words string, quiet []int) error {
	for _, q := range quiet {
		if st == q {
			return nil
		}
	}
	return statusError(st, words)
}

func (s *Socket) info() info {
	p := s.borrow()
	if p == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.last
	}
	defer C.ntls_socket_unref(p)
	return readInfo(p)
}

func (s *Socket) event(kind int) {
	switch kind {
	case C.NTLSGO_SECURE_CONNECT:
		s.onSecure.emit(&s.evMu, none{})
	case C.NTLSGO_END:
		s.onEnd.emit(&s.evMu, none{})
	case C.NTLSGO_DRAIN:
		s.onDrain.emit(&s.evMu, none{})
	case C.NTLSGO_TIMEOUT:
		s.onTimeout.emit(&s.evMu, none{})
	}
}

func (s *Socket) data(b []byte)         { s.onData.emit(&s.evMu, b) }
func (s *Socket) errorEvent(err *Error) { s.onError.emit(&s.evMu, err) }

// closed is the last event: the getters' values are kept, then the handle is released.
func (s *Socket) closed(hadError bool) {
	if p := s.borrow(); p != nil {
		in := readInfo(p)
		C.ntls_socket_unref(p)
		s.mu.Lock()
		s.last = in
		s.mu.Unlock()
	}
	// Released before the listeners run, so that from the close event on every call
	// reports ECLOSED, deterministically.
	s.release()
	s.onClose.emit(&s.evMu, hadError)
}

func (s *Socket) release() {
	s.mu.Lock()
	p := s.ptr
	s.ptr = nil
	s.mu.Unlock()
	if p != nil {
		s.handle.Delete()
		C.ntls_socket_unref(p)
	}
}
