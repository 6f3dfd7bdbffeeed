package nodetls

/*
#include "nodetls.h"
*/
import "C"

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// Error is a nodetls failure: returned by a call, or handed to an OnError listener.
// errors.Is matches it against the sentinels below (by Code) and, for the library's
// errno-range statuses, against syscall.Errno: errors.Is(err, syscall.ECONNREFUSED).
type Error struct {
	// Code is Node's err.code: "ECONNREFUSED", "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID"...
	Code string
	// Message is the library's words.
	Message string
	// Status is the negative NTLS_E* number.
	Status int
	// Syscall is Node's err.syscall ("connect", "read", "getaddrinfo"), or "".
	Syscall string
	// Address and Port are Node's err.address and err.port of a failed syscall.
	Address string
	Port    int
	// Host is Node's err.host of a host-name mismatch (err.hostname of ENOTFOUND), or "".
	Host string

	certDER []byte // err.cert of a host-name mismatch, when the library has it
}

// Error formats the error as "CODE: message".
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Is makes errors.Is(err, ErrConnRefused) and errors.Is(err, syscall.ECONNREFUSED) true
// for a refused connection, and errors.Is(err, os.ErrDeadlineExceeded) for ETIMEDOUT.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *Error:
		return t.Code == e.Code
	case syscall.Errno:
		// libuv numbers errno-range statuses -errno on Linux; ours start at -3000.
		return e.Status < 0 && e.Status > -3000 && syscall.Errno(-e.Status) == t
	}
	return target == os.ErrDeadlineExceeded && e.Status == statusETIMEDOUT
}

// Timeout reports a timed-out connection (ETIMEDOUT), for net.Error.
func (e *Error) Timeout() bool { return e.Status == statusETIMEDOUT }

// Temporary is false: nodetls retries nothing on a caller's behalf. (net.Error wants it.)
func (e *Error) Temporary() bool { return false }

// Sentinels for errors.Is. Each matches every *Error with its Code, whatever the message;
// the errno ones also match the syscall.Errno of the same name.
var (
	ErrConnRefused    = sentinel(C.NTLS_ECONNREFUSED)     // ECONNREFUSED: nothing listens there
	ErrConnReset      = sentinel(C.NTLS_ECONNRESET)       // ECONNRESET: the peer reset or vanished
	ErrTimedOut       = sentinel(C.NTLS_ETIMEDOUT)        // ETIMEDOUT
	ErrAddrInUse      = sentinel(C.NTLS_EADDRINUSE)       // EADDRINUSE: Listen on a taken port
	ErrHostNotFound   = sentinel(C.NTLS_EAI_NONAME)       // ENOTFOUND: the name does not resolve
	ErrNotSupported   = sentinel(C.NTLS_ENOTSUP)          // ENOTSUP: an OpenSSL feature rustls lacks
	ErrInvalid        = sentinel(C.NTLS_EINVAL)           // EINVAL: a wrong option or value
	ErrBadKey         = sentinel(C.NTLS_EKEY)             // EKEY: key or certificate material refused
	ErrWriteAfterEnd  = sentinel(C.NTLS_EWRITE_AFTER_END) // ERR_STREAM_WRITE_AFTER_END
	ErrHandleClosed   = sentinel(C.NTLS_ECLOSED)          // ECLOSED: a call on a closed handle
	errPeerDisconnect = sentinel(C.NTLS_ECONNRESET)
)

func sentinel(status C.int) *Error {
	return &Error{Code: ErrName(int(status)), Message: StrError(int(status)), Status: int(status)}
}

// CertificateError is a failed check of the peer's certificate (status ECERT): Code is
// Node's code ("CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT",
// "ERR_TLS_CERT_ALTNAME_INVALID"...). errors.As also finds the *Error it wraps.
type CertificateError struct {
	// Code is Node's err.code.
	Code string
	// Message is the library's words.
	Message string
	// Host is the name that did not match, for ERR_TLS_CERT_ALTNAME_INVALID.
	Host string
	// Certificate is the peer's certificate that did not match (Node's err.cert), or nil.
	Certificate *x509.Certificate

	err *Error
}

// Error formats the error as "CODE: message".
func (e *CertificateError) Error() string { return e.err.Error() }

// Unwrap gives the *Error, so errors.As(err, &nodetlsErr) works for every failure.
func (e *CertificateError) Unwrap() error { return e.err }

// goError is the error a net.Conn caller sees: *CertificateError for certificate
// failures, the *Error itself otherwise.
func goError(e *Error) error {
	if e.Status != statusECERT {
		return e
	}
	ce := &CertificateError{Code: e.Code, Message: e.Message, Host: e.Host, err: e}
	if len(e.certDER) > 0 {
		ce.Certificate, _ = x509.ParseCertificate(e.certDER) // the library parsed it already
	}
	return ce
}

// Status codes the package compares against (nodetls.h has the full table).
const (
	statusEINVAL         = int(C.NTLS_EINVAL)
	statusEALREADY       = int(C.NTLS_EALREADY)
	statusECLOSED        = int(C.NTLS_ECLOSED)
	statusECERT          = int(C.NTLS_ECERT)
	statusETIMEDOUT      = int(C.NTLS_ETIMEDOUT)
	statusEWRITEAFTEREND = int(C.NTLS_EWRITE_AFTER_END)
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
	e := &Error{
		Code:    C.GoString(C.ntls_error_code(err)),
		Message: C.GoString(C.ntls_error_message(err)),
		Status:  int(C.ntls_error_status(err)),
		Syscall: goStr(C.ntls_error_syscall(err)),
		Address: goStr(C.ntls_error_address(err)),
		Port:    int(C.ntls_error_port(err)),
		Host:    goStr(C.ntls_error_host(err)),
	}
	var cert *C.ntls_cert
	if C.ntls_error_cert(err, &cert) == 0 {
		e.certDER = certDER(cert)
		C.ntls_cert_unref(cert)
	}
	return e
}

// certDER copies a certificate handle's DER bytes.
func certDER(c *C.ntls_cert) []byte {
	var der *C.uint8_t
	var n C.size_t
	if C.ntls_cert_der(c, &der, &n) < 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(der), C.int(n))
}

// isStatus reports whether err is an *Error with that status.
func isStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Version is the library's version, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.ntls_version()) }
