package nodetls

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
)

// bigBody is what /big serves: large enough to need backpressure on every hop.
var bigBody = bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)

// testHandler: /echo answers the SHA-256 of the request body, /big sends bigBody, and
// every answer names the protocol the request came in on.
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		io.Copy(h, r.Body)
		fmt.Fprintf(w, "%s %s", r.Proto, hex.EncodeToString(h.Sum(nil)))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Proto", r.Proto)
		w.Write(bigBody)
	})
	return mux
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// serveHTTP serves h on a Listener with net/http, unchanged; counts new connections.
func serveHTTP(t *testing.T, cfg *Config) (string, *atomic.Int32) {
	l := listen(t, cfg)
	var conns atomic.Int32
	srv := &http.Server{Handler: testHandler(), ConnState: func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).String(), &conns
}

// serveBoth serves HTTP/2 with x/net/http2's ServeConn on connections where ALPN chose
// "h2", and HTTP/1.1 with net/http on the others: how a program offers both.
func serveBoth(t *testing.T, cfg *Config) string {
	l := listen(t, cfg)
	h1 := &oneByOne{conns: make(chan net.Conn), addr: l.Addr(), done: make(chan struct{})}
	srv := &http.Server{Handler: testHandler()}
	h2 := &http2.Server{}
	go srv.Serve(h1)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				h1.Close()
				return
			}
			if c.(*Conn).ConnectionState().NegotiatedProtocol == http2.NextProtoTLS {
				go h2.ServeConn(c, &http2.ServeConnOpts{BaseConfig: srv, Handler: srv.Handler})
			} else {
				select {
				case h1.conns <- c:
				case <-h1.done:
					c.Close()
				}
			}
		}
	}()
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}

// oneByOne is a net.Listener of the connections handed to it.
type oneByOne struct {
	conns chan net.Conn
	addr  net.Addr
	done  chan struct{}
	once  sync.Once
}

func (o *oneByOne) Accept() (net.Conn, error) {
	select {
	case c := <-o.conns:
		return c, nil
	case <-o.done:
		return nil, net.ErrClosed
	}
}
func (o *oneByOne) Close() error {
	o.once.Do(func() { close(o.done) })
	return nil
}
func (o *oneByOne) Addr() net.Addr { return o.addr }

// curl runs curl against the test CA; returns its standard output.
func curl(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("curl is not installed (scripts/setup.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--cacert", filepath.Join(certDir, "ca-cert.pem")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl %v: %v\n%s", args, err, stderr.String())
	}
	return string(out)
}

func TestHTTPSServeWithCurl(t *testing.T) {
	addr, _ := serveHTTP(t, serverConfig(t))
	port := addr[strings.LastIndex(addr, ":")+1:]
	url := "https://localhost:" + port
	body := filepath.Join(t.TempDir(), "body")
	payload := bytes.Repeat([]byte("curl body "), 300000) // 3 MB upload
	os.WriteFile(body, payload, 0o600)
	if got := curl(t, "--resolve", "localhost:"+port+":127.0.0.1", "--data-binary", "@"+body, url+"/echo"); got != "HTTP/1.1 "+sum(payload) {
		t.Errorf("upload: %q", got)
	}
	out := filepath.Join(t.TempDir(), "big")
	meta := curl(t, "--resolve", "localhost:"+port+":127.0.0.1", "-o", out, "-w", "%{http_code} %{http_version}", url+"/big")
	got, _ := os.ReadFile(out)
	if meta != "200 1.1" || !bytes.Equal(got, bigBody) {
		t.Errorf("download: %q, %d bytes", meta, len(got))
	}
}

func TestHTTPSServeWithGoClient(t *testing.T) {
	addr, conns := serveHTTP(t, serverConfig(t))
	client := &http.Client{Timeout: waitLimit, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t), ServerName: "localhost"}}}
	defer client.CloseIdleConnections()
	for i := 0; i < 5; i++ {
		payload := bytes.Repeat([]byte{byte(i)}, 100000*i)
		resp, err := client.Post("https://"+addr+"/echo", "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "HTTP/1.1 "+sum(payload) || resp.TLS == nil {
			t.Fatalf("request %d: %q", i, b)
		}
		resp, err = client.Get("https://" + addr + "/big")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(b, bigBody) {
			t.Fatalf("big %d: %d bytes", i, len(b))
		}
	}
	// Keep-alive held: net/http's background reads and their deadline-based aborts work.
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 10 sequential requests", n)
	}
}

func TestHTTP2ServeConnWithCurl(t *testing.T) {
	cfg := serverConfig(t)
	cfg.ALPNProtocols = []string{"h2", "http/1.1"}
	addr := serveBoth(t, cfg)
	port := addr[strings.LastIndex(addr, ":")+1:]
	url := "https://localhost:" + port
	resolve := "localhost:" + port + ":127.0.0.1"
	out := filepath.Join(t.TempDir(), "big")
	if meta := curl(t, "--http2", "--resolve", resolve, "-o", out, "-w", "%{http_version}", url+"/big"); meta != "2" {
		t.Errorf("curl --http2: version %q", meta)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, bigBody) {
		t.Errorf("h2 download: %d bytes", len(got))
	}
	if got := curl(t, "--http2", "--resolve", resolve, "--data-binary", "h2 body", url+"/echo"); got != "HTTP/2.0 "+sum([]byte("h2 body")) {
		t.Errorf("h2 upload: %q", got)
	}
	if got := curl(t, "--http1.1", "--resolve", resolve, "--data-binary", "h1 body", url+"/echo"); got != "HTTP/1.1 "+sum([]byte("h1 body")) {
		t.Errorf("http/1.1 on the same listener: %q", got)
	}
}

func TestHTTP2ServeConnWithGoClient(t *testing.T) {
	cfg := serverConfig(t)
	cfg.ALPNProtocols = []string{"h2", "http/1.1"}
	addr := serveBoth(t, cfg)
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t), ServerName: "localhost"}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: waitLimit}
	// Concurrent streams on one connection, each a large body: h2 flow control over our
	// backpressure.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get("https://" + addr + "/big")
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.ProtoMajor != 2 || !bytes.Equal(b, bigBody) {
				errs <- fmt.Errorf("proto %s, %d bytes, %v", resp.Proto, len(b), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// The client side: Go's HTTP clients over Dial, against crypto/tls servers (httptest).
func TestHTTPClientsOverDial(t *testing.T) {
	kp, err := tls.LoadX509KeyPair(filepath.Join(certDir, "server-ec-cert.pem"), filepath.Join(certDir, "server-ec-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	for _, h2 := range []bool{false, true} {
		ts := httptest.NewUnstartedServer(testHandler())
		ts.EnableHTTP2 = h2
		ts.TLS = &tls.Config{Certificates: []tls.Certificate{kp}}
		ts.StartTLS()
		defer ts.Close()
		cfg := clientConfig(t)
		var client *http.Client
		if h2 {
			cfg.ALPNProtocols = []string{"h2"}
			client = &http.Client{Transport: &http2.Transport{DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return DialContext(ctx, network, addr, cfg)
			}}}
		} else {
			client = &http.Client{Transport: &http.Transport{DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				return DialContext(ctx, network, addr, cfg)
			}}}
		}
		client.Timeout = waitLimit
		resp, err := client.Get(ts.URL + "/big")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(b, bigBody) || (resp.ProtoMajor == 2) != h2 {
			t.Errorf("h2 %v: %s, %d bytes", h2, resp.Proto, len(b))
		}
		client.CloseIdleConnections()
	}
}
