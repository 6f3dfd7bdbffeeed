package nodetls

/*
#include <stdlib.h>
#include "nodetls.h"
*/
import "C"

import (
	"fmt"
	"reflect"
	"unsafe"
)

// Options are Node's option names with Go values: tls.connect's and tls.createServer's
// object. The value's Go type picks the C setter: bool, any integer, string, []byte,
// and []string or [][]byte (or []any of those) for lists such as "ca" or "ALPNProtocols".
// The library checks each value against the option's type. A nil value means "absent".
type Options map[string]any

// cOptions is an ntls_options handle holding opts; the caller frees it with
// C.ntls_options_unref. The library copies options when it uses them.
func (opts Options) cOptions() (*C.ntls_options, error) {
	var o *C.ntls_options
	if st := int(C.ntls_options_new(&o)); st < 0 {
		return nil, statusError(st, "")
	}
	for name, value := range opts {
		if value == nil {
			continue
		}
		key, err := optionKey(o, name)
		if err == nil {
			err = setOption(o, name, key, value)
		}
		if err != nil {
			C.ntls_options_unref(o)
			return nil, err
		}
	}
	return o, nil
}

// optionKey maps Node's spelling to NTLS_OPT_*; an unknown name leaves the library's
// words ("unknown option 'x'") on o.
func optionKey(o *C.ntls_options, name string) (C.int, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	key := C.ntls_options_key(o, cname)
	if key < 0 {
		return 0, statusError(int(key), C.GoString(C.ntls_options_last_error(o)))
	}
	return key, nil
}

func setOption(o *C.ntls_options, name string, key C.int, value any) error {
	var st C.int
	switch v := value.(type) {
	case bool:
		b := C.int(0)
		if v {
			b = 1
		}
		st = C.ntls_options_set_bool(o, key, b)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		rv := reflect.ValueOf(v)
		n := int64(0)
		if rv.CanInt() {
			n = rv.Int()
		} else {
			n = int64(rv.Uint())
		}
		st = C.ntls_options_set_int(o, key, C.int64_t(n))
	case string:
		cs := C.CString(v)
		st = C.ntls_options_set_string(o, key, cs)
		C.free(unsafe.Pointer(cs))
	case []byte:
		st = setBytes(o, key, v, false)
	case []string:
		for _, s := range v {
			if st = addString(o, key, s); st < 0 {
				break
			}
		}
	case [][]byte:
		for _, b := range v {
			if st = setBytes(o, key, b, true); st < 0 {
				break
			}
		}
	case []any:
		for _, item := range v {
			switch it := item.(type) {
			case string:
				st = addString(o, key, it)
			case []byte:
				st = setBytes(o, key, it, true)
			default:
				return statusError(statusEINVAL, fmt.Sprintf("option '%s': list items must be string or []byte, not %T", name, item))
			}
			if st < 0 {
				break
			}
		}
	default:
		return statusError(statusEINVAL, fmt.Sprintf("option '%s': unsupported value type %T", name, value))
	}
	if st < 0 {
		return statusError(int(st), C.GoString(C.ntls_options_last_error(o)))
	}
	return nil
}

func addString(o *C.ntls_options, key C.int, s string) C.int {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return C.ntls_options_add_string(o, key, cs)
}

// setBytes passes Go memory for the call only: the library copies it.
func setBytes(o *C.ntls_options, key C.int, b []byte, add bool) C.int {
	var p *C.uint8_t
	if len(b) > 0 {
		p = (*C.uint8_t)(unsafe.Pointer(&b[0]))
	}
	if add {
		return C.ntls_options_add_bytes(o, key, p, C.size_t(len(b)))
	}
	return C.ntls_options_set_bytes(o, key, p, C.size_t(len(b)))
}
