package nodetls

import (
	"context"
	"net"
)

// Dial is tls.Dial over the library: it connects to address ("host:port", network "tcp",
// "tcp4" or "tcp6"; the library resolves the name) and finishes the handshake before it
// returns. Failures are *net.OpError values wrapping the library's: errors.Is(err,
// ErrConnRefused) or syscall.ECONNREFUSED for a refused connection, errors.As(err,
// &certErr) with a *CertificateError for a certificate that does not verify.
func Dial(network, address string, cfg *Config) (*Conn, error) {
	return DialContext(context.Background(), network, address, cfg)
}

// DialContext is Dial bounded by ctx: if ctx ends first, the connection is destroyed and
// the error wraps ctx's.
func DialContext(ctx context.Context, network, address string, cfg *Config) (*Conn, error) {
	host, port, err := splitAddress(network, address, false)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: stringAddr{network, address}, Err: err}
	}
	s, err := NewSocket()
	if err != nil {
		return fail(err)
	}
	c := newConn(s, network, true)
	if err := cfg.connect(s, Options{"host": host, "port": port, "allowHalfOpen": true}); err != nil {
		s.release() // never started, so no close event will come to release it
		return fail(err)
	}
	if err := c.HandshakeContext(ctx); err != nil {
		s.Destroy()
		return fail(err)
	}
	return c, nil
}
