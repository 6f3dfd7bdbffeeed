package nodetls

// The exported functions bridge.c's trampolines call, on the library's loop thread. User
// data is a cgo.Handle naming the *Socket or *Server (or a func for writes and replays).

/*
#include "bridge.h"
*/
import "C"

import (
	"log"
	"runtime/cgo"
	"unsafe"
)

// handleValue resolves a handle, or nil if it was already deleted: the contract makes
// close the last event, so a call after it would be a library bug; it is logged rather
// than allowed to crash the program from a C thread.
func handleValue(h C.uintptr_t) (v any) {
	if h == 0 {
		return nil
	}
	defer func() {
		if recover() != nil {
			log.Printf("nodetls: callback for a released handle %d (event after close?)", uintptr(h))
			v = nil
		}
	}()
	return cgo.Handle(h).Value()
}

//export goSocketEvent
func goSocketEvent(h C.uintptr_t, kind C.int) {
	if s, ok := handleValue(h).(*Socket); ok {
		s.event(int(kind))
	}
}

//export goSocketData
func goSocketData(h C.uintptr_t, buf *C.uint8_t, n C.size_t) {
	if s, ok := handleValue(h).(*Socket); ok {
		// Borrowed for this call only: Go code gets its own copy.
		s.data(C.GoBytes(unsafe.Pointer(buf), C.int(n)))
	}
}

//export goSocketClose
func goSocketClose(h C.uintptr_t, hadError C.int) {
	if s, ok := handleValue(h).(*Socket); ok {
		s.closed(hadError != 0)
	}
}

//export goSocketError
func goSocketError(h C.uintptr_t, err *C.ntls_error) {
	if s, ok := handleValue(h).(*Socket); ok {
		s.errorEvent(copyError(err))
	}
}

//export goWriteDone
func goWriteDone(arg C.uintptr_t, status C.int) {
	if fn, ok := handleValue(arg).(func(error)); ok {
		cgo.Handle(arg).Delete()
		var err error
		if status < 0 {
			err = statusError(int(status), "")
		}
		safeCall(func() { fn(err) })
	}
}

//export goServerEvent
func goServerEvent(h C.uintptr_t, kind C.int, err *C.ntls_error) {
	if srv, ok := handleValue(h).(*Server); ok {
		var e *Error
		if err != nil {
			e = copyError(err)
		}
		srv.event(int(kind), e)
	}
}

//export goServerConnection
func goServerConnection(h C.uintptr_t, s *C.ntls_socket) {
	if srv, ok := handleValue(h).(*Server); ok {
		srv.secureConnection(s)
	}
}

//export goLoopCall
func goLoopCall(arg C.uintptr_t) {
	if fn, ok := handleValue(arg).(func()); ok {
		cgo.Handle(arg).Delete()
		fn()
	}
}
