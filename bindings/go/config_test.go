package nodetls

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// Every Config field is the Node option its comment names, with a value the library
// accepts: a misspelt name or a wrong type would fail cOptions (the library checks both).
func TestConfigFieldsAreNodeOptions(t *testing.T) {
	cfg := &Config{
		Key: pem(t, "server-ec-key.pem"), Cert: pem(t, "server-ec-cert.pem"), CA: [][]byte{pem(t, "ca-cert.pem")},
		PFX: pem(t, "server-ec-nopass.pfx"), Passphrase: "secret", CRL: [][]byte{pem(t, "ca-crl.pem")},
		KeyFile: filepath.Join(certDir, "server-ec-key.pem"), CertFile: filepath.Join(certDir, "server-ec-cert.pem"),
		CAFile:     filepath.Join(certDir, "ca-cert.pem"),
		ServerName: "localhost", RejectUnauthorized: Bool(false), RequestCert: true,
		ALPNProtocols: []string{"h2"}, MinVersion: "TLSv1.2", MaxVersion: "TLSv1.3", SecureProtocol: "TLS_method",
		Ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256", HonorCipherOrder: true, ECDHCurve: "X25519:P-256", MinDHSize: 2048,
		HandshakeTimeout: 1500 * time.Millisecond, SessionTimeout: 90 * time.Second, TicketKeys: make([]byte, 48),
		SessionIDContext: "ctx", MaxConnections: 10, ReusePort: true, HighWaterMark: 1 << 20, NoDelay: Bool(false),
		Extra: Options{"timeout": 5000},
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	want := Options{
		"key": cfg.Key, "cert": cfg.Cert, "ca": cfg.CA, "pfx": [][]byte{cfg.PFX}, "passphrase": "secret", "crl": cfg.CRL,
		"servername": "localhost", "rejectUnauthorized": false, "requestCert": true, "ALPNProtocols": []string{"h2"},
		"minVersion": "TLSv1.2", "maxVersion": "TLSv1.3", "secureProtocol": "TLS_method",
		"ciphers": "ECDHE-ECDSA-AES128-GCM-SHA256", "honorCipherOrder": true, "ecdhCurve": "X25519:P-256", "minDHSize": 2048,
		"handshakeTimeout": int64(1500), "sessionTimeout": int64(90), "ticketKeys": cfg.TicketKeys, "sessionIdContext": "ctx",
		"maxConnections": 10, "reusePort": true, "highWaterMark": 1 << 20, "noDelay": false, "timeout": 5000,
	}
	if got := cfg.options(); !reflect.DeepEqual(got, want) {
		t.Errorf("options:\n got %v\nwant %v", got, want)
	}
	// The zero Config sets nothing: every option keeps Node's default.
	if got := (&Config{}).options(); len(got) != 0 {
		t.Errorf("zero Config sets %v", got)
	}
	if got := (*Config)(nil).options(); len(got) != 0 {
		t.Errorf("nil Config sets %v", got)
	}
	// Durations round up, so a small one is never Node's 0 ("no timeout").
	if got := (&Config{HandshakeTimeout: time.Microsecond}).options()["handshakeTimeout"]; got != int64(1) {
		t.Errorf("1 µs handshakeTimeout: %v", got)
	}
	// A wrong value is the library's error, naming the option.
	_, err := Listen("tcp", "127.0.0.1:0", &Config{Key: cfg.Key, Cert: cfg.Cert, MinVersion: "TLSv1.1"})
	var e *Error
	if !errors.As(err, &e) || e.Status >= 0 {
		t.Errorf("minVersion TLSv1.1: %v", err)
	}
}

// HandshakeTimeout reaches the library as milliseconds: a client that never sends its
// ClientHello is dropped after it, and Accept never sees the connection.
func TestHandshakeTimeout(t *testing.T) {
	cfg := serverConfig(t)
	cfg.HandshakeTimeout = 200 * time.Millisecond
	l := listen(t, cfg)
	failed := make(chan error, 1)
	l.OnTLSClientError(func(err error) {
		select {
		case failed <- err:
		default:
		}
	})
	raw, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	start := time.Now()
	raw.SetReadDeadline(time.Now().Add(waitLimit))
	if _, err := io.ReadAll(raw); err != nil {
		t.Fatalf("the silent client was not dropped: %v", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("dropped after %v, want about 200ms", d)
	}
	var e *Error
	if err := recv(t, failed, "tlsClientError"); !errors.As(err, &e) || e.Code != "ERR_TLS_HANDSHAKE_TIMEOUT" {
		t.Errorf("tlsClientError: %v", err)
	}
}

// A client that refuses our certificate: the failure goes to OnTLSClientError, with
// Node's code, and Accept keeps waiting for good connections.
func TestFailedHandshakeIsNeverAccepted(t *testing.T) {
	l := listen(t, serverConfig(t))
	failed := make(chan error, 1)
	l.OnTLSClientError(func(err error) {
		select {
		case failed <- err:
		default:
		}
	})
	accepted := make(chan *Conn, 2)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c.(*Conn)
		}
	}()
	// No RootCAs: crypto/tls does not know our CA and sends a bad_certificate alert.
	if _, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{ServerName: "localhost"}); err == nil {
		t.Fatal("crypto/tls trusted the test CA")
	}
	var e *Error
	if err := recv(t, failed, "tlsClientError"); !errors.As(err, &e) || e.Code != "ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE" {
		t.Errorf("tlsClientError: %v", err)
	}
	good, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{RootCAs: caPool(t), ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	good.Write([]byte("ok"))
	c := recv(t, accepted, "the good connection")
	defer c.Close()
	b := make([]byte, 2)
	if _, err := io.ReadFull(c, b); err != nil || !bytes.Equal(b, []byte("ok")) {
		t.Errorf("read %q, %v", b, err)
	}
	select {
	case c := <-accepted:
		t.Errorf("a second connection was accepted: %v", c.RemoteAddr())
	default:
	}
}
