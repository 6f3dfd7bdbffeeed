package nodetls

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func clientConfig(t *testing.T) *Config {
	return &Config{CA: [][]byte{pem(t, "ca-cert.pem")}, ServerName: "localhost"}
}

func serverConfig(t *testing.T) *Config {
	return &Config{Key: pem(t, "server-ec-key.pem"), Cert: pem(t, "server-ec-cert.pem")}
}

// listen is Listen for tests, closed at the end.
func listen(t *testing.T, cfg *Config) *Listener {
	t.Helper()
	l, err := Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.(*Listener)
}

// acceptEcho echoes every accepted connection until its peer ends, then closes it.
func acceptEcho(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}

func TestDialAgainstGoServer(t *testing.T) {
	states := make(chan tls.ConnectionState, 1)
	addr := serveGoTLS(t, "server-chained", func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} }, func(c *tls.Conn) {
		if c.Handshake() == nil {
			states <- c.ConnectionState()
			io.Copy(c, c) // until our close_notify
		}
	})
	cfg := clientConfig(t)
	cfg.ALPNProtocols = []string{"http/1.1"}
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer := recv(t, states, "the Go server's handshake")
	st := c.ConnectionState()
	if !st.HandshakeComplete || st.Version != peer.Version || st.CipherSuite != peer.CipherSuite || st.CipherSuite == 0 ||
		st.NegotiatedProtocol != "http/1.1" || st.ServerName != "localhost" {
		t.Errorf("state %+v, Go saw version %x suite %x alpn %q", st, peer.Version, peer.CipherSuite, peer.NegotiatedProtocol)
	}
	// The Go server sends leaf and intermediate; the library links the chain up to our CA.
	chain := st.PeerCertificates
	if len(chain) < 2 || chain[0].Subject.CommonName != "localhost" || chain[1].Subject.String() != chain[0].Issuer.String() {
		t.Errorf("peer chain: %d certificates", len(chain))
	}
	if len(st.VerifiedChains) != 1 || c.AuthorizationError() != "" {
		t.Errorf("verified chains %d, authorization error %q", len(st.VerifiedChains), c.AuthorizationError())
	}
	if c.RemoteAddr().String() != addr || c.LocalAddr().(*net.TCPAddr).Port == 0 {
		t.Errorf("remote %v (want %s), local %v", c.RemoteAddr(), addr, c.LocalAddr())
	}

	payload := bytes.Repeat([]byte("nodetls over net.Conn "), 50000) // 1.1 MB: several chunks
	go c.Write(payload)
	back := make([]byte, len(payload))
	if _, err := io.ReadFull(c, back); err != nil || !bytes.Equal(back, payload) {
		t.Fatalf("echo: %v", err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The Go server's io.Copy sees our close_notify, returns, and closes: we read EOF.
	if n, err := c.Read(back); n != 0 || err != io.EOF {
		t.Errorf("after CloseWrite: %d, %v (want EOF)", n, err)
	}
	if _, err := c.Write([]byte("late")); !errors.Is(err, ErrWriteAfterEnd) {
		t.Errorf("write after CloseWrite: %v", err)
	}
}

func TestListenAgainstGoClient(t *testing.T) {
	cfg := serverConfig(t)
	cfg.ALPNProtocols = []string{"h2", "http/1.1"}
	l := listen(t, cfg)
	accepted := make(chan *Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		accepted <- c.(*Conn)
		io.Copy(c, c)
		c.Close()
	}()
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: caPool(t), ServerName: "localhost", NextProtos: []string{"http/1.1", "h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := conn.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(conn)
	if err != nil || string(back) != "hello" {
		t.Fatalf("echo %q, %v", back, err)
	}
	c := recv(t, accepted, "accept")
	st, peer := c.ConnectionState(), conn.ConnectionState()
	if st.Version != peer.Version || st.CipherSuite != peer.CipherSuite || st.NegotiatedProtocol != "h2" ||
		peer.NegotiatedProtocol != "h2" || st.ServerName != "localhost" || st.PeerCertificates != nil {
		t.Errorf("server state %+v, client %+v", st, peer)
	}
	if c.RemoteAddr().String() != conn.LocalAddr().String() || c.LocalAddr().String() != l.Addr().String() {
		t.Errorf("addresses: remote %v local %v", c.RemoteAddr(), c.LocalAddr())
	}
}

func TestDialTLS12(t *testing.T) {
	states := make(chan tls.ConnectionState, 1)
	addr := serveGoTLS(t, "server-rsa", nil, func(c *tls.Conn) {
		if c.Handshake() == nil {
			states <- c.ConnectionState()
		}
	})
	cfg := clientConfig(t)
	cfg.MaxVersion = "TLSv1.2"
	c, err := Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	peer := recv(t, states, "the Go server's handshake")
	if st := c.ConnectionState(); st.Version != tls.VersionTLS12 || st.CipherSuite != peer.CipherSuite || st.DidResume || st.NegotiatedProtocol != "" {
		t.Errorf("state %+v, Go saw %s", st, tls.CipherSuiteName(peer.CipherSuite))
	}
}

func TestServerSeesClientCertificate(t *testing.T) {
	cfg := serverConfig(t)
	cfg.RequestCert, cfg.CA = true, [][]byte{pem(t, "ca-cert.pem")}
	l := listen(t, cfg)
	accepted := make(chan *Conn, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			accepted <- c.(*Conn)
		}
	}()
	kp, err := tls.LoadX509KeyPair(filepath.Join(certDir, "client-cert.pem"), filepath.Join(certDir, "client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: caPool(t), ServerName: "localhost", Certificates: []tls.Certificate{kp}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := recv(t, accepted, "accept")
	defer c.Close()
	st := c.ConnectionState()
	if len(st.PeerCertificates) == 0 || !bytes.Equal(st.PeerCertificates[0].Raw, kp.Certificate[0]) || c.AuthorizationError() != "" {
		t.Errorf("peer certificates %d, authorization error %q", len(st.PeerCertificates), c.AuthorizationError())
	}
}

func TestReadDeadline(t *testing.T) {
	l := listen(t, serverConfig(t))
	go acceptEcho(l)
	c, err := Dial("tcp", l.Addr().String(), clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 16)

	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err = c.Read(buf)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 2*time.Second {
		t.Fatalf("read past the deadline: %v after %v", err, time.Since(start))
	}
	// A deadline in the past wakes a Read that is already waiting (net/http relies on it).
	c.SetReadDeadline(time.Time{})
	woke := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		woke <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if err := recv(t, woke, "the interrupted Read"); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("interrupted read: %v", err)
	}
	// Cleared, the connection reads again, and nothing was lost.
	c.SetReadDeadline(time.Time{})
	c.Write([]byte("still here"))
	if _, err := io.ReadFull(c, buf[:10]); err != nil || string(buf[:10]) != "still here" {
		t.Fatalf("after the deadline: %q, %v", buf[:10], err)
	}
	// A deadline extended while Read waits lets it finish.
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	go func() {
		time.Sleep(10 * time.Millisecond)
		c.SetReadDeadline(time.Now().Add(waitLimit))
		time.Sleep(50 * time.Millisecond)
		c.Write([]byte("late"))
	}()
	if _, err := io.ReadFull(c, buf[:4]); err != nil || string(buf[:4]) != "late" {
		t.Fatalf("extended deadline: %q, %v", buf[:4], err)
	}
}

// A peer that does not read: Write blocks once the library's buffer and the kernel's are
// full, a write deadline ends the wait with a timeout, and no byte is lost or doubled.
func TestWriteBackpressureAndDeadline(t *testing.T) {
	release := make(chan struct{})
	type result struct {
		n   int64
		sum [32]byte
	}
	got := make(chan result, 1)
	addr := serveGoTLS(t, "server-ec", nil, func(c *tls.Conn) {
		if c.Handshake() != nil {
			return
		}
		<-release
		h := sha256.New()
		n, _ := io.Copy(h, c)
		var r result
		r.n = n
		copy(r.sum[:], h.Sum(nil))
		got <- r
	})
	c, err := Dial("tcp", addr, clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	block := make([]byte, 256<<10)
	h := sha256.New()
	var total int64
	c.SetWriteDeadline(time.Now().Add(1500 * time.Millisecond))
	for i := 0; ; i++ {
		for j := range block {
			block[j] = byte(i + j>>10)
		}
		n, err := c.Write(block)
		h.Write(block[:n])
		total += int64(n)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("write: %v", err)
			}
			break
		}
		if total > 256<<20 {
			t.Fatal("256 MB written to a peer that reads nothing: no backpressure")
		}
	}
	t.Logf("blocked after %d KiB (kernel buffers plus at most highWaterMark and one chunk)", total>>10)
	close(release)
	c.SetWriteDeadline(time.Time{})
	c.Write([]byte("end"))
	h.Write([]byte("end"))
	total += 3
	c.CloseWrite()
	r := recv(t, got, "the peer's count")
	var want [32]byte
	copy(want[:], h.Sum(nil))
	if r.n != total || r.sum != want {
		t.Fatalf("peer got %d bytes, we wrote %d (digest equal: %v)", r.n, total, r.sum == want)
	}
}

// A reader that does not read: the socket pauses, so what waits in the Conn stays near
// readLimit and the peer's writes block in TCP, until Read catches up.
func TestReadBackpressure(t *testing.T) {
	const total = 48 << 20
	var sent atomic.Int64
	addr := serveGoTLS(t, "server-ec", nil, func(c *tls.Conn) {
		block := make([]byte, 64<<10)
		for i := 0; sent.Load() < total; i++ {
			for j := range block {
				block[j] = byte(i * j)
			}
			n, err := c.Write(block)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
		c.CloseWrite()
	})
	c, err := Dial("tcp", addr, clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(500 * time.Millisecond)
	c.mu.Lock()
	buffered, paused := c.recvLen, c.paused
	c.mu.Unlock()
	if !paused || buffered > readLimit+256<<10 || sent.Load() >= total {
		t.Fatalf("not reading: paused %v, %d KiB buffered, peer sent %d KiB of %d", paused, buffered>>10, sent.Load()>>10, total>>10)
	}
	t.Logf("not reading: %d KiB buffered, peer blocked after %d KiB", buffered>>10, sent.Load()>>10)
	block := make([]byte, 64<<10)
	buf := make([]byte, 64<<10)
	var read int64
	for i := 0; read < total; i++ {
		for j := range block {
			block[j] = byte(i * j)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatalf("after %d bytes: %v", read, err)
		}
		if !bytes.Equal(buf, block) {
			t.Fatalf("data differs in block %d", i)
		}
		read += int64(len(buf))
	}
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("at the end: %d, %v", n, err)
	}
}

func TestDialErrors(t *testing.T) {
	port := strconv.Itoa(closedPort(t))
	_, err := Dial("tcp", "127.0.0.1:"+port, clientConfig(t))
	var op *net.OpError
	var e *Error
	if !errors.Is(err, ErrConnRefused) || !errors.Is(err, syscall.ECONNREFUSED) || !errors.As(err, &op) || op.Op != "dial" ||
		!errors.As(err, &e) || e.Code != "ECONNREFUSED" || e.Syscall != "connect" || strconv.Itoa(e.Port) != port {
		t.Errorf("refused: %v (%#v)", err, e)
	}
	for _, tc := range []struct{ cert, code string }{
		{"selfsigned", "DEPTH_ZERO_SELF_SIGNED_CERT"},
		{"expired", "CERT_HAS_EXPIRED"},
		{"wronghost", "ERR_TLS_CERT_ALTNAME_INVALID"},
	} {
		addr := serveGoTLS(t, tc.cert, nil, func(c *tls.Conn) { c.Handshake() })
		_, err := Dial("tcp", addr, clientConfig(t))
		var ce *CertificateError
		if !errors.As(err, &ce) || ce.Code != tc.code || !errors.As(err, &e) || e.Code != tc.code || errors.Is(err, ErrConnRefused) {
			t.Errorf("%s: %v", tc.cert, err)
			continue
		}
		if tc.code == "ERR_TLS_CERT_ALTNAME_INVALID" && (ce.Host != "localhost" || ce.Certificate == nil) {
			t.Errorf("altname error: host %q, certificate %v", ce.Host, ce.Certificate != nil)
		}
		// Accepted with rejectUnauthorized false; the reason stays readable.
		cfg := clientConfig(t)
		cfg.RejectUnauthorized = Bool(false)
		c, err := Dial("tcp", addr, cfg)
		if err != nil {
			t.Errorf("%s, rejectUnauthorized false: %v", tc.cert, err)
			continue
		}
		if c.AuthorizationError() != tc.code || c.ConnectionState().VerifiedChains != nil {
			t.Errorf("%s: authorization error %q", tc.cert, c.AuthorizationError())
		}
		c.Close()
	}
	if _, err := Dial("udp", "127.0.0.1:1", nil); err == nil {
		t.Error("udp accepted")
	}
	if _, err := Dial("tcp4", "[::1]:1", nil); err == nil {
		t.Error("tcp4 with an IPv6 address accepted")
	}
	_, err = Dial("tcp", "127.0.0.1:1", &Config{Extra: Options{"rejectUnauthorised": false}})
	if !errors.Is(err, ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("misspelt option: %v", err)
	}
}

func TestListenErrors(t *testing.T) {
	l := listen(t, serverConfig(t))
	_, err := Listen("tcp", l.Addr().String(), serverConfig(t))
	if !errors.Is(err, ErrAddrInUse) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second listen: %v", err)
	}
	_, err = Listen("tcp", "127.0.0.1:0", &Config{KeyFile: "/nonexistent/key.pem", CertFile: filepath.Join(certDir, "server-ec-cert.pem")})
	var e *Error
	if !errors.Is(err, syscall.ENOENT) || !errors.As(err, &e) || !bytes.Contains([]byte(e.Message), []byte("/nonexistent/key.pem")) {
		t.Errorf("missing key file: %v", err)
	}
	_, err = Listen("tcp", "127.0.0.1:0", &Config{Key: pem(t, "server-rsa-key.pem"), Cert: pem(t, "server-ec-cert.pem")})
	if !errors.Is(err, ErrBadKey) {
		t.Errorf("mismatched key: %v", err)
	}
	// Accept after Close, and Close twice.
	l2 := listen(t, serverConfig(t))
	l2.Close()
	if _, err := l2.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("accept after close: %v", err)
	}
	if err := l2.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
}

// A server that accepts TCP and never answers the ClientHello: DialContext gives up
// when its context does, and the error says why.
func TestDialContextDeadline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = DialContext(ctx, "tcp", ln.Addr().String(), clientConfig(t))
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 2*time.Second {
		t.Errorf("silent server: %v after %v", err, time.Since(start))
	}
}

func TestCloseSemantics(t *testing.T) {
	ended := make(chan error, 1)
	addr := serveGoTLS(t, "server-ec", nil, func(c *tls.Conn) {
		b, err := io.ReadAll(c) // until our close_notify
		if err == nil && string(b) != "bye" {
			err = errors.New("got " + string(b))
		}
		ended <- err
	})
	c, err := Dial("tcp", addr, clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("bye"))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, ended, "the peer's EOF"); err != nil {
		t.Errorf("peer: %v", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second close: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if st := c.ConnectionState(); !st.HandshakeComplete || st.Version == 0 {
		t.Errorf("state after close: %+v", st)
	}
}

// A peer that vanishes mid-transfer: the blocked Read and Write both return its error.
func TestPeerVanishes(t *testing.T) {
	l := listen(t, serverConfig(t))
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
		c.(*Conn).Socket().Destroy() // a reset, not an orderly end
	}()
	c, err := Dial("tcp", l.Addr().String(), clientConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errs := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		errs <- err
	}()
	if err := recv(t, errs, "the read of a vanished peer"); err == nil {
		t.Error("read succeeded")
	}
	_, err = c.Write(make([]byte, 1<<20))
	for i := 0; err == nil && i < 100; i++ {
		_, err = c.Write(make([]byte, 1<<20))
	}
	if err == nil {
		t.Error("writes to a vanished peer kept succeeding")
	}
}

// Many goroutines dialing, writing and reading at once through one Listener (run with -race).
func TestConcurrentConns(t *testing.T) {
	l := listen(t, serverConfig(t))
	go acceptEcho(l)
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := Dial("tcp", l.Addr().String(), clientConfig(t))
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(waitLimit))
			payload := bytes.Repeat([]byte{byte(i)}, 100000)
			go c.Write(payload)
			back := make([]byte, len(payload))
			if _, err := io.ReadFull(c, back); err != nil || !bytes.Equal(back, payload) {
				errs <- errors.New("echo " + strconv.Itoa(i) + " differs")
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
