package nodetls

import (
	"context"
	"net"
	"strconv"
	"sync"
)

// Listener is a TLS server as a net.Listener (tls.createServer plus listen): the library
// accepts and handshakes on its loop thread, and Accept returns connections that are
// already secure, so a slow or failing handshake never holds up the accept loop.
type Listener struct {
	srv     *Server
	network string
	addr    net.Addr

	mu      sync.Mutex
	wake    chan struct{}
	pending []*Conn
	closed  bool
}

// maxPending bounds the secure connections waiting for Accept; beyond it new ones are
// destroyed, as a full backlog drops them.
const maxPending = 1024

// Listen is net.Listen for TLS: network "tcp", "tcp4" or "tcp6", address "host:port"
// (port 0: any free port; no host: every address). cfg gives the key and certificate
// (Key/Cert, KeyFile/CertFile or PFX) and the other options; bad material fails here
// with the library's words. Connections are half-open capable (Node's allowHalfOpen),
// as a TCP net.Conn is.
func Listen(network, address string, cfg *Config) (net.Listener, error) {
	host, port, err := splitAddress(network, address, true)
	if err != nil {
		return nil, err
	}
	srv, err := cfg.createServer(Options{"allowHalfOpen": true})
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: stringAddr{network, address}, Err: err}
	}
	l := &Listener{srv: srv, network: network, wake: make(chan struct{})}
	srv.OnSecureConnection(l.secureConnection)
	result := make(chan error, 1)
	answer := func(err error) {
		select { // listeners never block the loop thread; the first answer is the one
		case result <- err:
		default:
		}
	}
	srv.OnListening(func() { answer(nil) })
	srv.OnError(func(e *Error) { answer(goError(e)) })
	if err = srv.Listen(host, port); err == nil {
		err = <-result // the loop thread binds at once and answers either way
	}
	if err != nil {
		srv.Close()
		return nil, &net.OpError{Op: "listen", Net: network, Addr: stringAddr{network, address}, Err: err}
	}
	a, err := srv.Address()
	if err != nil {
		srv.Close()
		return nil, err
	}
	l.addr = tcpAddr(a)
	return l, nil
}

// secureConnection queues a handshaken connection for Accept (on the loop thread).
func (l *Listener) secureConnection(s *Socket) {
	c := newConn(s, l.network, false)
	l.mu.Lock()
	refuse := l.closed || len(l.pending) >= maxPending
	if !refuse {
		l.pending = append(l.pending, c)
		close(l.wake)
		l.wake = make(chan struct{})
	}
	l.mu.Unlock()
	if refuse {
		s.Destroy()
	}
}

// Accept waits for the next secure connection (a *Conn).
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptContext(context.Background()) }

// AcceptContext is Accept bounded by ctx.
func (l *Listener) AcceptContext(ctx context.Context) (*Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: l.network, Addr: l.addr, Err: net.ErrClosed}
		}
		if len(l.pending) > 0 {
			c := l.pending[0]
			l.pending[0] = nil
			l.pending = l.pending[1:]
			l.mu.Unlock()
			return c, nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, &net.OpError{Op: "accept", Net: l.network, Addr: l.addr, Err: ctx.Err()}
		}
	}
}

// OnTLSClientError adds a listener for connections that failed their handshake (Node's
// tlsClientError), which Accept never returns; it runs on the loop thread.
func (l *Listener) OnTLSClientError(fn func(error)) {
	l.srv.OnTLSClientError(func(e *Error) { fn(goError(e)) })
}

// Close stops listening; connections not yet accepted are destroyed, accepted ones stay
// open (as with net.Listener). Accept then fails with net.ErrClosed.
func (l *Listener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return &net.OpError{Op: "close", Net: l.network, Addr: l.addr, Err: net.ErrClosed}
	}
	l.closed = true
	pending := l.pending
	l.pending = nil
	close(l.wake)
	l.wake = make(chan struct{})
	l.mu.Unlock()
	for _, c := range pending {
		c.s.Destroy()
	}
	return l.srv.Close()
}

// Addr is the bound address (a *net.TCPAddr), with the port the system chose for port 0.
func (l *Listener) Addr() net.Addr { return l.addr }

// Server is the event-style server underneath (Connections, ticket keys...).
func (l *Listener) Server() *Server { return l.srv }

// splitAddress checks network and splits "host:port" (a service name is looked up as
// net.Dial does); an empty host listens on every address of the network's family.
func splitAddress(network, address string, listening bool) (string, int, error) {
	op := "dial"
	if listening {
		op = "listen"
	}
	fail := func(err error) (string, int, error) {
		return "", 0, &net.OpError{Op: op, Net: network, Addr: stringAddr{network, address}, Err: err}
	}
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return fail(net.UnknownNetworkError(network))
	}
	host, service, err := net.SplitHostPort(address)
	if err != nil {
		return fail(err)
	}
	port, err := strconv.Atoi(service)
	if err != nil {
		if port, err = net.LookupPort(network, service); err != nil {
			return fail(err)
		}
	}
	if ip := net.ParseIP(host); ip != nil {
		if (network == "tcp4" && ip.To4() == nil) || (network == "tcp6" && ip.To4() != nil) {
			return fail(&net.AddrError{Err: "address of the wrong family for " + network, Addr: host})
		}
	}
	if host == "" {
		switch {
		case network == "tcp4":
			host = "0.0.0.0"
		case network == "tcp6":
			host = "::"
		case !listening:
			host = "localhost" // as net.Dial reads ":port"
		}
	}
	return host, port, nil
}

// stringAddr is an address as the caller wrote it, for errors before anything resolved.
type stringAddr struct{ network, address string }

func (a stringAddr) Network() string { return a.network }
func (a stringAddr) String() string  { return a.address }
