package nodetls

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// waitLimit bounds every wait for one event.
const waitLimit = 10 * time.Second

var certDir = filepath.Join("..", "..", "target", "test-certs")

func TestMain(m *testing.M) {
	// The script is idempotent; it only does work when the certificates are missing.
	if _, err := os.Stat(filepath.Join(certDir, ".complete")); err != nil {
		cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "gen-certs.sh"))
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			panic("gen-certs.sh: " + err.Error())
		}
	}
	os.Exit(m.Run())
}

func pem(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(certDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recv waits for one value, failing the test after waitLimit.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// signal returns a channel and a func that sends to it without ever blocking the loop thread.
func signal[T any]() (chan T, func(T)) {
	ch := make(chan T, 16)
	return ch, func(v T) {
		select {
		case ch <- v:
		default:
		}
	}
}

// goPeer is a crypto/tls echo server on 127.0.0.1, for interoperability tests.
type goPeer struct {
	port   int
	states chan tls.ConnectionState
	errs   chan error
}

func startGoServer(t *testing.T, cert string, configure func(*tls.Config)) *goPeer {
	t.Helper()
	p := &goPeer{states: make(chan tls.ConnectionState, 8), errs: make(chan error, 8)}
	_, port, _ := net.SplitHostPort(serveGoTLS(t, cert, configure, p.echo))
	p.port, _ = strconv.Atoi(port)
	return p
}

// serveGoTLS runs handler for each connection a crypto/tls server on 127.0.0.1 accepts.
func serveGoTLS(t *testing.T, cert string, configure func(*tls.Config), handler func(*tls.Conn)) string {
	t.Helper()
	chain := filepath.Join(certDir, cert+"-chain.pem") // leaf and intermediates, where there are any
	if _, err := os.Stat(chain); err != nil {
		chain = filepath.Join(certDir, cert+"-cert.pem")
	}
	kp, err := tls.LoadX509KeyPair(chain, filepath.Join(certDir, cert+"-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{kp}}
	if configure != nil {
		configure(cfg)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(waitLimit))
				handler(c.(*tls.Conn))
			}()
		}
	}()
	return ln.Addr().String()
}

func (p *goPeer) echo(c *tls.Conn) {
	if err := c.Handshake(); err != nil {
		p.errs <- err
		return
	}
	p.states <- c.ConnectionState()
	io.Copy(c, c) // until the peer's close_notify
}

// caPool is the test CA for crypto/tls clients.
func caPool(t *testing.T) *x509.CertPool {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem(t, "ca-cert.pem")) {
		t.Fatal("bad ca-cert.pem")
	}
	return pool
}

// closedPort is a loopback port with nothing listening on it.
func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}
