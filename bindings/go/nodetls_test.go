package nodetls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// echoClient connects with the test CA and collects data until want bytes arrived.
func echoClient(t *testing.T, opts Options, want int) (*Socket, <-chan []byte) {
	t.Helper()
	s, err := Connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	var buf []byte
	s.OnData(func(b []byte) {
		buf = append(buf, b...) // listeners run one at a time, so buf needs no lock
		if len(buf) == want {
			got <- buf
		}
	})
	return s, got
}

func TestClientEchoAgainstGoServer(t *testing.T) {
	peer := startGoServer(t, "server-ec", func(c *tls.Config) { c.NextProtos = []string{"h2", "http/1.1"} })
	payload := bytes.Repeat([]byte("hello from nodetls "), 1000)
	s, got := echoClient(t, Options{
		"host": "127.0.0.1", "port": peer.port, "servername": "localhost",
		"ca": pem(t, "ca-cert.pem"), "ALPNProtocols": []string{"http/1.1"},
	}, len(payload))
	secure, onSecure := signal[struct{}]()
	s.OnSecureConnect(func() { onSecure(struct{}{}) })
	closed, onClose := signal[bool]()
	s.OnClose(onClose)

	recv(t, secure, "secureConnect")
	if _, err := s.Write(payload); err != nil {
		t.Fatal(err)
	}
	if b := recv(t, got, "echo"); !bytes.Equal(b, payload) {
		t.Fatalf("echo differs: %d bytes", len(b))
	}
	state := recv(t, peer.states, "the Go server's handshake")
	if s.Protocol() != "TLSv1.3" || state.Version != tls.VersionTLS13 {
		t.Errorf("protocol %q, Go saw %x", s.Protocol(), state.Version)
	}
	if c := s.Cipher(); c.StandardName != tls.CipherSuiteName(state.CipherSuite) || c.Version != "TLSv1.3" {
		t.Errorf("cipher %+v, Go saw %s", c, tls.CipherSuiteName(state.CipherSuite))
	}
	if s.ALPNProtocol() != "http/1.1" || state.NegotiatedProtocol != "http/1.1" {
		t.Errorf("ALPN %q, Go saw %q", s.ALPNProtocol(), state.NegotiatedProtocol)
	}
	if !s.Authorized() || s.AuthorizationError() != "" {
		t.Errorf("authorized %v (%q)", s.Authorized(), s.AuthorizationError())
	}
	if s.Servername() != "localhost" || s.RemoteAddress().Port != peer.port || s.RemoteAddress().Family != "IPv4" {
		t.Errorf("servername %q, remote %+v", s.Servername(), s.RemoteAddress())
	}
	s.End()
	if hadError := recv(t, closed, "close"); hadError {
		t.Error("close had_error after a clean end")
	}
	// As in Node, getProtocol() answers null once closed; properties such as ALPN stay.
	if s.Protocol() != "" || s.ALPNProtocol() != "http/1.1" {
		t.Errorf("after close: protocol %q (want none), ALPN %q", s.Protocol(), s.ALPNProtocol())
	}
}

func TestClientTLS12AgainstGoServer(t *testing.T) {
	peer := startGoServer(t, "server-rsa", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 })
	s, got := echoClient(t, Options{"host": "localhost", "port": peer.port, "ca": pem(t, "ca-cert.pem")}, 2)
	closed, onClose := signal[bool]()
	s.OnClose(onClose)
	s.Write([]byte("hi"))
	recv(t, got, "echo")
	state := recv(t, peer.states, "the Go server's handshake")
	if s.Protocol() != "TLSv1.2" || s.Cipher().StandardName != tls.CipherSuiteName(state.CipherSuite) {
		t.Errorf("protocol %q cipher %+v, Go saw %s", s.Protocol(), s.Cipher(), tls.CipherSuiteName(state.CipherSuite))
	}
	if s.ALPNProtocol() != "" {
		t.Errorf("ALPN %q without any offered", s.ALPNProtocol())
	}
	s.Destroy()
	recv(t, closed, "close")
}

// maxVersion "TLSv1.2" caps the client at TLS 1.2 against a peer that offers 1.3.
func TestClientMaxVersionOption(t *testing.T) {
	peer := startGoServer(t, "server-ec", nil)
	s, err := Connect(Options{"host": "localhost", "port": peer.port, "ca": pem(t, "ca-cert.pem"), "maxVersion": "TLSv1.2"})
	if err != nil {
		t.Fatal(err)
	}
	secure, onSecure := signal[struct{}]()
	s.OnSecureConnect(func() { onSecure(struct{}{}) })
	recv(t, secure, "secureConnect")
	p := s.Protocol()
	s.Destroy()
	if p != "TLSv1.2" {
		t.Errorf("protocol %q", p)
	}
}

func TestServerEchoAgainstGoClient(t *testing.T) {
	srv, err := CreateServer(Options{
		"key": pem(t, "server-ec-key.pem"), "cert": pem(t, "server-ec-cert.pem"),
		"ALPNProtocols": []string{"h2", "http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	accepted, onAccepted := signal[*Socket]()
	srv.OnSecureConnection(func(s *Socket) {
		s.OnData(func(b []byte) { s.Write(b) })
		onAccepted(s)
	})
	listening, onListening := signal[struct{}]()
	srv.OnListening(func() { onListening(struct{}{}) })
	if err := srv.Listen("127.0.0.1", 0); err != nil {
		t.Fatal(err)
	}
	recv(t, listening, "listening")
	addr, err := srv.Address()
	if err != nil || addr.Address != "127.0.0.1" || addr.Family != "IPv4" || addr.Port == 0 {
		t.Fatalf("address %+v, %v", addr, err)
	}

	conn, err := tls.Dial("tcp", net.JoinHostPort(addr.Address, strconv.Itoa(addr.Port)), &tls.Config{
		RootCAs: caPool(t), ServerName: "localhost", NextProtos: []string{"http/1.1", "h2"},
	})
	if err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("ping"), 4096)
	if _, err := conn.Write(payload); err != nil {
		t.Fatal(err)
	}
	back := make([]byte, len(payload))
	if _, err := io.ReadFull(conn, back); err != nil || !bytes.Equal(back, payload) {
		t.Fatalf("echo: %v", err)
	}
	state := conn.ConnectionState()
	if state.NegotiatedProtocol != "h2" {
		t.Errorf("ALPN %q: the server's preference should win", state.NegotiatedProtocol)
	}
	s := recv(t, accepted, "secureConnection")
	if s.ALPNProtocol() != "h2" || s.Protocol() != "TLSv1.3" || s.Servername() != "localhost" ||
		s.Cipher().StandardName != tls.CipherSuiteName(state.CipherSuite) {
		t.Errorf("server side: alpn %q protocol %q servername %q cipher %+v", s.ALPNProtocol(), s.Protocol(), s.Servername(), s.Cipher())
	}
	conn.Close()

	closed, onClose := signal[struct{}]()
	srv.OnClose(func() { onClose(struct{}{}) })
	srv.Close()
	recv(t, closed, "server close")
	if _, err := srv.Address(); err == nil {
		t.Error("address after close")
	}
}

func TestCertificateErrors(t *testing.T) {
	for _, tc := range []struct{ cert, code string }{
		{"selfsigned", "DEPTH_ZERO_SELF_SIGNED_CERT"},
		{"expired", "CERT_HAS_EXPIRED"},
		{"wronghost", "ERR_TLS_CERT_ALTNAME_INVALID"},
	} {
		t.Run(tc.cert, func(t *testing.T) {
			peer := startGoServer(t, tc.cert, nil)
			opts := Options{"host": "localhost", "port": peer.port, "ca": pem(t, "ca-cert.pem")}

			s, err := Connect(opts)
			if err != nil {
				t.Fatal(err)
			}
			errs, onError := signal[*Error]()
			s.OnError(onError)
			closed, onClose := signal[bool]()
			s.OnClose(onClose)
			e := recv(t, errs, "error")
			if e.Code != tc.code || e.Status >= 0 || e.Message == "" {
				t.Errorf("error %+v, want code %s", e, tc.code)
			}
			if !recv(t, closed, "close") {
				t.Error("close without had_error")
			}
			if goErr := recv(t, peer.errs, "the Go server's handshake failure"); goErr == nil {
				t.Error("the Go server did not see our alert")
			}

			opts["rejectUnauthorized"] = false
			s, err = Connect(opts)
			if err != nil {
				t.Fatal(err)
			}
			secure, onSecure := signal[struct{}]()
			s.OnSecureConnect(func() { onSecure(struct{}{}) })
			recv(t, secure, "secureConnect")
			if s.Authorized() || s.AuthorizationError() != tc.code {
				t.Errorf("authorized %v, authorizationError %q, want %s", s.Authorized(), s.AuthorizationError(), tc.code)
			}
			s.Destroy()
		})
	}
}

func TestECONNREFUSED(t *testing.T) {
	s, err := Connect(Options{"host": "127.0.0.1", "port": closedPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	errs, onError := signal[*Error]()
	s.OnError(onError)
	closed, onClose := signal[bool]()
	s.OnClose(onClose)
	if e := recv(t, errs, "error"); e.Code != "ECONNREFUSED" || e.Status != -111 {
		t.Errorf("error %+v", e)
	}
	recv(t, closed, "close")
	_, err = s.Write([]byte("late"))
	var e *Error
	if !errors.As(err, &e) || e.Code != "ECLOSED" {
		t.Errorf("write after close: %v", err)
	}
	if s.Destroy() != nil || s.End() != nil {
		t.Error("End and Destroy should be idempotent, as in Node")
	}
}

func TestUnknownOption(t *testing.T) {
	_, err := Connect(Options{"host": "127.0.0.1", "port": 1, "rejectUnauthorised": false})
	var e *Error
	if !errors.As(err, &e) || e.Code != "EINVAL" || !strings.Contains(e.Message, "rejectUnauthorised") {
		t.Fatalf("got %v", err)
	}
}

func TestOptionErrorsCarryLibraryWords(t *testing.T) {
	_, err := Connect(Options{"host": "127.0.0.1", "port": "443"})
	if err == nil || !strings.Contains(err.Error(), "option 'port' takes") {
		t.Errorf("wrong type: %v", err)
	}
	_, err = Connect(Options{"host": "127.0.0.1", "port": 1, "NPNProtocols": []string{"h2"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != "ENOTSUP" || !strings.Contains(e.Message, "ALPNProtocols") {
		t.Errorf("NPNProtocols: %v", err)
	}
}

func TestBadKeyMaterial(t *testing.T) {
	_, err := CreateServer(Options{"key": []byte("-----BEGIN PRIVATE KEY-----\nnot base64\n"), "cert": pem(t, "server-ec-cert.pem")})
	var e *Error
	if !errors.As(err, &e) || e.Code != "EKEY" || !strings.Contains(e.Message, "PEM") {
		t.Errorf("broken PEM: %v", err)
	}
	_, err = CreateServer(Options{"key": pem(t, "server-rsa-key.pem"), "cert": pem(t, "server-ec-cert.pem")})
	if !errors.As(err, &e) || !strings.Contains(e.Message, "does not match") {
		t.Errorf("mismatch: %v", err)
	}
}

func TestLateListenersRunOnce(t *testing.T) {
	s, err := Connect(Options{"host": "127.0.0.1", "port": closedPort(t)})
	if err != nil {
		t.Fatal(err)
	}
	closed, onClose := signal[bool]()
	s.OnClose(onClose)
	recv(t, closed, "close")
	// Both already happened: each late listener still runs, once.
	late, onLate := signal[string]()
	s.OnError(func(e *Error) { onLate("error " + e.Code) })
	s.OnClose(func(hadError bool) { onLate("close") })
	got := []string{recv(t, late, "late error"), recv(t, late, "late close")}
	if got[0] != "error ECONNREFUSED" || got[1] != "close" {
		t.Errorf("late listeners got %v", got)
	}
	select {
	case v := <-late:
		t.Errorf("a late listener ran twice: %v", v)
	default:
	}
}
