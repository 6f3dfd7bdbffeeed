package nodetls

/*
#include <stdlib.h>
#include "nodetls.h"
*/
import "C"

import (
	"time"
	"unsafe"
)

// Config is the typed form of Node's tls options for Dial and Listen: each field is the
// Node option of the same name (in Go's capitals), and its zero value means "absent",
// so Node's default applies. The library checks every value; a wrong one fails Dial or
// Listen with an *Error naming the option. A Config may be reused and shared.
type Config struct {
	// Key is `key`: the PEM private key (a server's; a client's for client certificates).
	Key []byte
	// Cert is `cert`: the PEM certificate chain, leaf first.
	Cert []byte
	// CA is `ca`: PEM CA certificates trusted instead of Mozilla's list.
	CA [][]byte
	// PFX is `pfx`: a PKCS#12 bundle of key and chain.
	PFX []byte
	// Passphrase is `passphrase`, for an encrypted Key or PFX.
	Passphrase string
	// CRL is `crl`: PEM certificate revocation lists.
	CRL [][]byte
	// KeyFile, CertFile and CAFile name PEM files the library reads at Dial or Listen,
	// added to Key, Cert and CA.
	KeyFile, CertFile, CAFile string

	// ServerName is `servername`: the name sent in SNI and checked against the server's
	// certificate. Empty: the host of the address.
	ServerName string
	// RejectUnauthorized is `rejectUnauthorized`: nil is Node's default, true (refuse a
	// peer whose certificate does not verify). Bool(false) accepts it; then
	// Conn.AuthorizationError tells why it did not verify.
	RejectUnauthorized *bool
	// RequestCert is `requestCert`: a server asks clients for a certificate.
	RequestCert bool

	// ALPNProtocols is `ALPNProtocols`, in preference order ("h2", "http/1.1").
	ALPNProtocols []string
	// MinVersion and MaxVersion are `minVersion` and `maxVersion`: "TLSv1.2" or "TLSv1.3".
	MinVersion, MaxVersion string
	// SecureProtocol is `secureProtocol` ("TLSv1_2_method"...).
	SecureProtocol string
	// Ciphers is `ciphers`: an OpenSSL cipher list.
	Ciphers string
	// HonorCipherOrder is `honorCipherOrder`: the server's cipher order wins.
	HonorCipherOrder bool
	// ECDHCurve is `ecdhCurve`: "auto" or a colon list of groups ("X25519:P-256").
	ECDHCurve string
	// DHParam and MinDHSize are `dhparam` and `minDHSize`: checked as Node checks them,
	// with no effect (every suite is ECDHE).
	DHParam   []byte
	MinDHSize int

	// HandshakeTimeout is `handshakeTimeout`: how long a server waits for a client's
	// handshake (Node's default 120 s). Millisecond resolution.
	HandshakeTimeout time.Duration
	// SessionTimeout is `sessionTimeout`: how long a session stays resumable. Second resolution.
	SessionTimeout time.Duration
	// TicketKeys is `ticketKeys`: 48 bytes of session-ticket keys, shared by servers
	// that resume each other's sessions.
	TicketKeys []byte
	// SessionIDContext is `sessionIdContext`.
	SessionIDContext string
	// MaxConnections is `maxConnections`: a server closes connections over this count.
	MaxConnections int
	// ReusePort is `reusePort`: listen with SO_REUSEPORT.
	ReusePort bool

	// HighWaterMark is `highWaterMark`: bytes the library buffers before a Write waits
	// for them to reach the kernel (default 16384).
	HighWaterMark int
	// NoDelay is `noDelay`: nil is Node's default, true (Nagle's algorithm off).
	NoDelay *bool

	// Extra holds any other Node option by its Node name, as Options does.
	Extra Options
}

// Bool returns a pointer to v, for Config's optional booleans: RejectUnauthorized: nodetls.Bool(false).
func Bool(v bool) *bool { return &v }

// options is the Config as Node-named Options: one code path sets both forms.
func (cfg *Config) options() Options {
	opts := Options{}
	if cfg == nil {
		return opts
	}
	for k, v := range cfg.Extra {
		opts[k] = v
	}
	set := func(name string, v any, present bool) {
		if present {
			opts[name] = v
		}
	}
	set("key", cfg.Key, cfg.Key != nil)
	set("cert", cfg.Cert, cfg.Cert != nil)
	set("ca", cfg.CA, cfg.CA != nil)
	set("pfx", [][]byte{cfg.PFX}, cfg.PFX != nil)
	set("passphrase", cfg.Passphrase, cfg.Passphrase != "")
	set("crl", cfg.CRL, cfg.CRL != nil)
	set("servername", cfg.ServerName, cfg.ServerName != "")
	if cfg.RejectUnauthorized != nil {
		opts["rejectUnauthorized"] = *cfg.RejectUnauthorized
	}
	set("requestCert", true, cfg.RequestCert)
	set("ALPNProtocols", cfg.ALPNProtocols, cfg.ALPNProtocols != nil)
	set("minVersion", cfg.MinVersion, cfg.MinVersion != "")
	set("maxVersion", cfg.MaxVersion, cfg.MaxVersion != "")
	set("secureProtocol", cfg.SecureProtocol, cfg.SecureProtocol != "")
	set("ciphers", cfg.Ciphers, cfg.Ciphers != "")
	set("honorCipherOrder", true, cfg.HonorCipherOrder)
	set("ecdhCurve", cfg.ECDHCurve, cfg.ECDHCurve != "")
	set("dhparam", cfg.DHParam, cfg.DHParam != nil)
	set("minDHSize", cfg.MinDHSize, cfg.MinDHSize != 0)
	set("handshakeTimeout", roundUp(cfg.HandshakeTimeout, time.Millisecond), cfg.HandshakeTimeout != 0)
	set("sessionTimeout", roundUp(cfg.SessionTimeout, time.Second), cfg.SessionTimeout != 0)
	set("ticketKeys", cfg.TicketKeys, cfg.TicketKeys != nil)
	set("sessionIdContext", cfg.SessionIDContext, cfg.SessionIDContext != "")
	set("maxConnections", cfg.MaxConnections, cfg.MaxConnections != 0)
	set("reusePort", true, cfg.ReusePort)
	set("highWaterMark", cfg.HighWaterMark, cfg.HighWaterMark != 0)
	if cfg.NoDelay != nil {
		opts["noDelay"] = *cfg.NoDelay
	}
	return opts
}

// roundUp is d in units of unit, a positive remainder counting as one more unit (so 1 µs
// is not 0, which Node reads as "no timeout"); negative durations pass through for the
// library to refuse.
func roundUp(d, unit time.Duration) int64 {
	n := int64(d / unit)
	if d%unit > 0 {
		n++
	}
	return n
}

// cOptions is the ntls_options handle of the Config plus extra (Dial's host and port);
// the files are read by the library (ntls_options_add_file), with its words on failure.
func (cfg *Config) cOptions(extra Options) (*C.ntls_options, error) {
	opts := cfg.options()
	for k, v := range extra {
		opts[k] = v
	}
	o, err := opts.cOptions()
	if err != nil || cfg == nil {
		return o, err
	}
	for _, f := range []struct {
		key  C.int
		path string
	}{{C.NTLS_OPT_KEY, cfg.KeyFile}, {C.NTLS_OPT_CERT, cfg.CertFile}, {C.NTLS_OPT_CA, cfg.CAFile}} {
		if f.path == "" {
			continue
		}
		cpath := C.CString(f.path)
		st := C.ntls_options_add_file(o, f.key, cpath)
		C.free(unsafe.Pointer(cpath))
		if st < 0 {
			err := statusError(int(st), C.GoString(C.ntls_options_last_error(o)))
			C.ntls_options_unref(o)
			return nil, err
		}
	}
	return o, nil
}

// createServer is CreateServer from the Config plus extra options.
func (cfg *Config) createServer(extra Options) (*Server, error) {
	o, err := cfg.cOptions(extra)
	if err != nil {
		return nil, err
	}
	return createServer(o)
}

// connect starts s with the Config plus extra options (host, port).
func (cfg *Config) connect(s *Socket, extra Options) error {
	o, err := cfg.cOptions(extra)
	if err != nil {
		return err
	}
	return s.connect(o)
}
