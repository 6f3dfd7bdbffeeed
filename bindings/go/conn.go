package nodetls

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// Conn is a TLS connection as a net.Conn: Dial's result, or what a Listener accepts.
// The library does the TLS and the I/O on its loop thread; Conn turns its events into
// blocking calls with deadlines. Every method may be called from any goroutine.
//
// Backpressure goes both ways. Write hands the library at most writeChunk bytes at a
// time and, once the library's write has answered "buffer full", waits for its drain
// event before the next chunk, so a slow peer blocks the writer instead of growing
// memory. Received data waits in a buffer of at most about readLimit bytes: when it is
// full the socket is paused, so TCP pushes back on the peer until Read catches up.
type Conn struct {
	s        *Socket
	network  string
	isClient bool
	secure   chan struct{} // closed when the handshake ended, either way

	mu        sync.Mutex
	wake      chan struct{} // closed and replaced on every change below (a broadcast)
	handshake error         // why the handshake failed, once secure is closed
	recv      [][]byte      // received data not yet read
	recvLen   int
	paused    bool // the socket is paused because recv is full (changed on the loop thread only)
	resuming  bool // a resume is scheduled on the loop thread
	peerEnded bool // the peer's end (close_notify or FIN): Read returns io.EOF after recv
	failed    error
	closed    bool // the library's close event came
	closing   bool // Close was called
	writeShut bool // CloseWrite was called
	waitDrain bool // the library's write said "full": the next chunk waits for drain
	drains    uint64
	linger    *time.Timer
	state     tls.ConnectionState
	chain     *peerChain
	local     net.Addr
	remote    net.Addr
	authErr   string

	readDeadline, writeDeadline *deadline
	writeMu                     sync.Mutex // one Write at a time, so chunks never interleave
}

const (
	// readLimit is how much received data may wait for Read before the socket pauses.
	readLimit = 256 << 10
	// writeChunk is the most one library write takes from a Write.
	writeChunk = 64 << 10
	// closeLinger bounds how long Close waits for the peer's end after ours before the
	// connection is destroyed (its resources freed even if the peer never answers).
	closeLinger = 5 * time.Second
)

// newConn wraps a socket and installs its listeners. A server's socket is already secure.
func newConn(s *Socket, network string, isClient bool) *Conn {
	c := &Conn{
		s: s, network: network, isClient: isClient,
		secure:       make(chan struct{}),
		wake:         make(chan struct{}),
		readDeadline: newDeadline(), writeDeadline: newDeadline(),
	}
	if isClient {
		s.OnSecureConnect(func() { c.handshakeDone(nil) })
	} else {
		c.handshakeDone(nil)
	}
	s.OnEnd(func() { c.update(func() { c.peerEnded = true }) })
	s.OnDrain(func() {
		c.update(func() {
			c.drains++
			c.waitDrain = false
		})
	})
	s.OnError(func(e *Error) {
		err := goError(e)
		c.update(func() {
			if c.failed == nil {
				c.failed = err
			}
		})
		c.handshakeDone(err)
	})
	s.OnClose(func(bool) {
		c.update(func() {
			c.closed = true
			if c.linger != nil {
				c.linger.Stop()
			}
		})
		c.handshakeDone(errPeerDisconnect)
	})
	s.OnData(c.received) // last: it starts reading
	return c
}

// update changes the state under the lock and wakes every waiting call.
func (c *Conn) update(change func()) {
	c.mu.Lock()
	change()
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
}

// handshakeDone records the end of the handshake (err nil: secure); the first call wins.
func (c *Conn) handshakeDone(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.secure:
		return
	default:
	}
	c.handshake = err
	if err == nil {
		c.snapshot()
	}
	close(c.secure)
}

// received is the data listener, on the loop thread: it queues, and pauses when full.
func (c *Conn) received(b []byte) {
	pause := false
	c.update(func() {
		if c.closing {
			return // nobody will read it: Close drops what arrives
		}
		c.recv = append(c.recv, b)
		c.recvLen += len(b)
		if !c.paused && c.recvLen >= readLimit {
			c.paused, pause = true, true
		}
	})
	if pause {
		c.s.Pause()
	}
}

// resumeIfRoom runs on the loop thread, where every pause and resume is decided, so
// the flag and the socket never disagree.
func (c *Conn) resumeIfRoom() {
	c.mu.Lock()
	c.resuming = false
	resume := c.paused && c.recvLen < readLimit/2
	if resume {
		c.paused = false
	}
	c.mu.Unlock()
	if resume {
		c.s.Resume()
	}
}

// scheduleResume asks the loop thread to resume a paused socket; c.mu is held.
func (c *Conn) scheduleResume() {
	if c.paused && !c.resuming && c.recvLen < readLimit/2 {
		c.resuming = true
		callSoon(c.resumeIfRoom)
	}
}

// Handshake waits for the TLS handshake to finish. Dial and Accept return connections
// whose handshake is done, so for them it returns at once; Read and Write call it too.
func (c *Conn) Handshake() error { return c.HandshakeContext(context.Background()) }

// HandshakeContext is Handshake bounded by ctx; if ctx ends first, the connection is
// destroyed (as crypto/tls closes it) and ctx's error returned.
func (c *Conn) HandshakeContext(ctx context.Context) error {
	select {
	case <-c.secure:
		return c.handshake
	default:
	}
	select {
	case <-c.secure:
		return c.handshake
	case <-ctx.Done():
		c.s.Destroy()
		return ctx.Err()
	}
}

// waitHandshake is Handshake for Read and Write: bounded by that direction's deadline.
func (c *Conn) waitHandshake(op string, d *deadline) error {
	select {
	case <-c.secure:
	case <-d.wait():
		return c.opError(op, os.ErrDeadlineExceeded)
	}
	if c.handshake != nil {
		return c.opError(op, c.handshake)
	}
	return nil
}

// Read reads received data, waiting until some arrives, the peer ends (io.EOF), the
// connection fails, or the read deadline passes (an error that is os.ErrDeadlineExceeded).
func (c *Conn) Read(b []byte) (int, error) {
	if err := c.waitHandshake("read", c.readDeadline); err != nil {
		return 0, err
	}
	for {
		c.mu.Lock()
		switch {
		case c.closing:
			c.mu.Unlock()
			return 0, c.opError("read", net.ErrClosed)
		case c.readDeadline.passed():
			c.mu.Unlock()
			return 0, c.opError("read", os.ErrDeadlineExceeded)
		case c.recvLen > 0:
			n := c.take(b)
			c.scheduleResume()
			c.mu.Unlock()
			return n, nil
		case len(b) == 0:
			c.mu.Unlock()
			return 0, nil
		case c.peerEnded:
			c.mu.Unlock()
			return 0, io.EOF
		case c.failed != nil:
			err := c.failed
			c.mu.Unlock()
			return 0, c.opError("read", err)
		case c.closed:
			c.mu.Unlock()
			return 0, io.EOF
		}
		wake := c.wake
		c.mu.Unlock()
		select {
		case <-wake:
		case <-c.readDeadline.wait():
		}
	}
}

// take copies queued data into b; c.mu is held.
func (c *Conn) take(b []byte) int {
	n := 0
	for n < len(b) && len(c.recv) > 0 {
		k := copy(b[n:], c.recv[0])
		n += k
		if k == len(c.recv[0]) {
			c.recv[0] = nil
			c.recv = c.recv[1:]
		} else {
			c.recv[0] = c.recv[0][k:]
		}
	}
	c.recvLen -= n
	if len(c.recv) == 0 {
		c.recv = nil // let the backing array go
	}
	return n
}

// Write writes all of b unless the connection fails or the write deadline passes; it
// blocks while the library's buffer is full (see Conn). On an error, n counts the bytes
// the library took.
func (c *Conn) Write(b []byte) (int, error) {
	if err := c.waitHandshake("write", c.writeDeadline); err != nil {
		return 0, err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	n := 0
	for n < len(b) {
		drains, err := c.waitWritable()
		if err != nil {
			return n, err
		}
		chunk := b[n:min(len(b), n+writeChunk)]
		ok, werr := c.s.Write(chunk)
		if werr != nil {
			return n, c.opError("write", werr)
		}
		n += len(chunk)
		if !ok {
			c.mu.Lock()
			// A drain that came already (the loop thread is fast) ends this wait.
			c.waitDrain = c.drains == drains
			c.mu.Unlock()
		}
	}
	return n, nil
}

// waitWritable waits until the library takes more data; returns the drain count seen.
func (c *Conn) waitWritable() (uint64, error) {
	for {
		c.mu.Lock()
		var err error
		switch {
		case c.closing:
			err = net.ErrClosed
		case c.writeShut:
			err = ErrWriteAfterEnd
		case c.writeDeadline.passed():
			err = os.ErrDeadlineExceeded
		case c.failed != nil:
			err = c.failed
		case c.closed:
			err = errPeerDisconnect
		case !c.waitDrain:
			drains := c.drains
			c.mu.Unlock()
			return drains, nil
		}
		wake := c.wake
		c.mu.Unlock()
		if err != nil {
			return 0, c.opError("write", err)
		}
		select {
		case <-wake:
		case <-c.writeDeadline.wait():
		}
	}
}

// CloseWrite is Node's end(): the library sends what is queued, then close_notify and
// FIN. Reading goes on until the peer ends; further Writes fail.
func (c *Conn) CloseWrite() error {
	c.mu.Lock()
	shut := c.writeShut || c.closing
	c.writeShut = true
	c.mu.Unlock()
	if shut {
		return nil
	}
	c.writeMu.Lock() // after a Write in progress
	defer c.writeMu.Unlock()
	return c.s.End()
}

// Close ends the connection: queued data is still sent, then close_notify and FIN
// (Node's end()); received data that was not read is dropped. The library frees the
// connection when the peer ends too, or destroys it after closeLinger. Close before the
// handshake finished destroys it at once. A second Close returns net.ErrClosed.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return c.opError("close", net.ErrClosed)
	}
	c.closing = true
	c.recv, c.recvLen = nil, 0
	c.scheduleResume() // so the peer's end is read
	if !c.closed {
		c.linger = time.AfterFunc(closeLinger, func() { c.s.Destroy() })
	}
	close(c.wake)
	c.wake = make(chan struct{})
	c.mu.Unlock()
	select {
	case <-c.secure:
		if c.handshake == nil {
			return c.s.End()
		}
	default:
	}
	return c.s.Destroy()
}

// SetDeadline sets both deadlines (zero: none). A call waiting now is bound by it too.
func (c *Conn) SetDeadline(t time.Time) error {
	c.readDeadline.set(t)
	c.writeDeadline.set(t)
	return nil
}

// SetReadDeadline bounds Read (and the handshake it may wait for).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.readDeadline.set(t)
	return nil
}

// SetWriteDeadline bounds Write: a Write waiting for the library's drain stops with an
// error that is os.ErrDeadlineExceeded; the bytes it reported as written stay queued.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.set(t)
	return nil
}

// LocalAddr is our end's address (a *net.TCPAddr).
func (c *Conn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.local
}

// RemoteAddr is the peer's address (a *net.TCPAddr).
func (c *Conn) RemoteAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.remote
}

// AuthorizationError is Node's code for why the peer's certificate did not verify
// ("DEPTH_ZERO_SELF_SIGNED_CERT"), or "" when it did (or when no certificate was asked for).
func (c *Conn) AuthorizationError() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authErr
}

// Socket is the event-style socket underneath, for what Conn does not cover (BytesRead,
// Cipher, SetTimeout...). Reading and writing through it as well would mix two streams.
func (c *Conn) Socket() *Socket { return c.s }

func (c *Conn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.network, Source: c.local, Addr: c.remote, Err: err}
}

// Compile-time checks: Conn is a net.Conn, and offers what net/http and x/net/http2 look for.
var (
	_ net.Conn                                           = (*Conn)(nil)
	_ interface{ CloseWrite() error }                    = (*Conn)(nil)
	_ interface{ ConnectionState() tls.ConnectionState } = (*Conn)(nil)
)
