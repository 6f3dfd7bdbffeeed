package nodetls

/*
#include "nodetls.h"
*/
import "C"

import "fmt"

// Error is a nodetls failure: returned by a call, or handed to an OnError listener.
type Error struct {
	// Code is Node's err.code: "ECONNREFUSED", "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID"...
	Code string
	// Message is the library's words.
	Message string
	// Status is the negative NTLS_E* number.
	Status int
}

// Error formats the error as "CODE: message".
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Status codes the package compares against (nodetls.h has the full table).
const (
	statusEINVAL   = int(C.NTLS_EINVAL)
	statusEALREADY = int(C.NTLS_EALREADY)
	statusECLOSED  = int(C.NTLS_ECLOSED)
)

// ErrName is the name of a status code ("ECONNREFUSED").
func ErrName(status int) string { return C.GoString(C.ntls_err_name(C.int(status))) }

// StrError is the text of a status code.
func StrError(status int) string { return C.GoString(C.ntls_strerror(C.int(status))) }

// statusError makes the error of a failed call; words are the handle's last-error text.
func statusError(status int, words string) *Error {
	if words == "" {
		words = StrError(status)
	}
	return &Error{Code: ErrName(status), Message: words, Status: status}
}

// copyError copies a borrowed ntls_error, valid only during its callback.
func copyError(err *C.ntls_error) *Error {
	return &Error{
		Code:    C.GoString(C.ntls_error_code(err)),
		Message: C.GoString(C.ntls_error_message(err)),
		Status:  int(C.ntls_error_status(err)),
	}
}

// Version is the library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.ntls_version()) }
