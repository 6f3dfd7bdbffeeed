package nodetls

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"log"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Server is a TLS server: tls.createServer. Its listeners run on the library's loop
// thread; listening, error and close are remembered for late listeners.
type Server struct {
	mu     sync.Mutex // guards ptr
	ptr    *C.ntls_server
	handle cgo.Handle

	evMu          sync.Mutex
	onConnection  listeners[*Socket]
	onClientError listeners[*Error]
	onListening   listeners[none]
	onError       listeners[*Error]
	onClose       listeners[none]
}

// CreateServer is tls.createServer(options): "key", "cert", "ca", "requestCert",
// "ALPNProtocols"... Keys and certificates are checked now, with the library's words
// ("key does not match certificate") in the returned *Error.
func CreateServer(opts Options) (*Server, error) {
	o, err := opts.cOptions()
	if err != nil {
		return nil, err
	}
	return createServer(o)
}

// createServer makes a server from options, which it releases.
func createServer(o *C.ntls_options) (*Server, error) {
	defer C.ntls_options_unref(o)
	var p *C.ntls_server
	if st := int(C.ntls_server_new(nil, o, &p)); st < 0 {
		return nil, statusError(st, C.GoString(C.ntls_options_last_error(o)))
	}
	srv := &Server{ptr: p}
	srv.onListening.sticky, srv.onError.sticky, srv.onClose.sticky = true, true, true
	srv.handle = cgo.NewHandle(srv)
	if st := int(C.ntlsgo_server_install(p, C.uintptr_t(srv.handle))); st < 0 {
		srv.release()
		return nil, statusError(st, "")
	}
	return srv, nil
}

// OnSecureConnection adds a listener for each client that finished its handshake.
func (srv *Server) OnSecureConnection(fn func(*Socket)) { srv.onConnection.add(&srv.evMu, fn) }

// OnTLSClientError adds a listener for connections that failed before becoming secure.
func (srv *Server) OnTLSClientError(fn func(*Error)) { srv.onClientError.add(&srv.evMu, fn) }

// OnListening adds a listener for the bound socket being ready.
func (srv *Server) OnListening(fn func()) { srv.onListening.add(&srv.evMu, noArgs(fn)) }

// OnError adds a listener for listen failures (EADDRINUSE...).
func (srv *Server) OnError(fn func(*Error)) { srv.onError.add(&srv.evMu, fn) }

// OnClose adds a listener for the end of Close, once every connection has closed.
func (srv *Server) OnClose(fn func()) { srv.onClose.add(&srv.evMu, noArgs(fn)) }

// Listen binds on the loop thread (port 0: any free port; host "": every address). The
// result arrives as listening or error.
func (srv *Server) Listen(host string, port int) error {
	var chost *C.char
	if host != "" {
		chost = C.CString(host)
		defer C.free(unsafe.Pointer(chost))
	}
	return srv.call(func(p *C.ntls_server) C.int { return C.ntlsgo_server_listen(p, chost, C.int(port)) })
}

// Address is server.address(); an error before listening.
func (srv *Server) Address() (Address, error) {
	var a Address
	err := srv.call(func(p *C.ntls_server) C.int {
		var host [64]C.char
		var port, family C.int
		st := C.ntls_server_address(p, &host[0], C.size_t(len(host)), &port, &family)
		if st >= 0 {
			a = makeAddress(&host[0], port, family)
		}
		return st
	})
	return a, err
}

// Connections counts open connections, handshaking ones included.
func (srv *Server) Connections() int {
	n := 0
	srv.call(func(p *C.ntls_server) C.int {
		n = int(C.ntls_server_connections(p))
		return 0
	})
	return n
}

// Close stops accepting; close fires once every connection has closed. Idempotent.
func (srv *Server) Close() error {
	err := srv.call(func(p *C.ntls_server) C.int { return C.ntlsgo_server_close(p) })
	if e, ok := err.(*Error); ok && (e.Status == statusEALREADY || e.Status == statusECLOSED) {
		return nil
	}
	return err
}

// call runs fn on a handle borrowed for the call (see Socket.borrow).
func (srv *Server) call(fn func(p *C.ntls_server) C.int) error {
	srv.mu.Lock()
	p := srv.ptr
	if p != nil {
		C.ntls_server_ref(p)
	}
	srv.mu.Unlock()
	if p == nil {
		return statusError(statusECLOSED, "server is closed")
	}
	defer C.ntls_server_unref(p)
	if st := int(fn(p)); st < 0 {
		return statusError(st, "")
	}
	return nil
}

func (srv *Server) event(kind int, err *Error) {
	switch kind {
	case C.NTLSGO_LISTENING:
		srv.onListening.emit(&srv.evMu, none{})
	case C.NTLSGO_SERVER_ERROR:
		srv.onError.emit(&srv.evMu, err)
	case C.NTLSGO_CLIENT_ERROR:
		srv.onClientError.emit(&srv.evMu, err)
	case C.NTLSGO_SERVER_CLOSE:
		srv.release() // first: from close on, Address fails, as Node's address() is null
		srv.onClose.emit(&srv.evMu, none{})
	}
}

// secureConnection wraps the borrowed socket with a reference of its own.
func (srv *Server) secureConnection(p *C.ntls_socket) {
	C.ntls_socket_ref(p)
	s, err := wrapSocket(p)
	if err != nil {
		// Nobody could ever hear from this connection, so it must not stay open.
		log.Printf("nodetls: cannot install socket callbacks (%v); destroying the connection", err)
		C.ntls_socket_destroy(p)
		return
	}
	srv.onConnection.emit(&srv.evMu, s)
}

func (srv *Server) release() {
	srv.mu.Lock()
	p := srv.ptr
	srv.ptr = nil
	srv.mu.Unlock()
	if p != nil {
		srv.handle.Delete()
		C.ntls_server_unref(p)
	}
}
