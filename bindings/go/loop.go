package nodetls

/*
#include "bridge.h"
*/
import "C"

import (
	"log"
	"runtime/cgo"
)

// callSoon runs fn on the default loop's thread on a later turn, as every listener runs.
func callSoon(fn func()) {
	h := cgo.NewHandle(fn)
	if st := int(C.ntlsgo_loop_call(C.uintptr_t(h))); st < 0 {
		// The default loop never closes, so this is not expected; run it anyway.
		h.Delete()
		log.Printf("nodetls: ntls_loop_call failed (%s); running the listener on a goroutine", ErrName(st))
		go fn()
	}
}
