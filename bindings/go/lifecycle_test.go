package nodetls

import (
	"bytes"
	"testing"
)

// startEchoServer is our own echo server on 127.0.0.1, closed when the test ends.
func startEchoServer(t *testing.T) int {
	t.Helper()
	srv, err := CreateServer(Options{"key": pem(t, "server-ec-key.pem"), "cert": pem(t, "server-ec-cert.pem")})
	if err != nil {
		t.Fatal(err)
	}
	srv.OnSecureConnection(func(s *Socket) { s.OnData(func(b []byte) { s.Write(b) }) })
	listening, onListening := signal[struct{}]()
	srv.OnListening(func() { onListening(struct{}{}) })
	if err := srv.Listen("127.0.0.1", 0); err != nil {
		t.Fatal(err)
	}
	recv(t, listening, "listening")
	t.Cleanup(func() {
		closed, onClose := signal[struct{}]()
		srv.OnClose(func() { onClose(struct{}{}) })
		srv.Close()
		recv(t, closed, "server close")
	})
	a, _ := srv.Address()
	return a.Port
}

func TestBackpressureAndDrain(t *testing.T) {
	port := startEchoServer(t)
	const total = 4 << 20
	block := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	s, got := echoClient(t, Options{"host": "localhost", "port": port, "ca": pem(t, "ca-cert.pem"), "highWaterMark": 65536}, total)
	drained, onDrain := signal[struct{}]()
	s.OnDrain(func() { onDrain(struct{}{}) }) // before writing: drain is never replayed
	closed, onClose := signal[bool]()
	s.OnClose(onClose)
	sawFalse := false
	for sent := 0; sent < total; sent += len(block) {
		ok, err := s.Write(block)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			sawFalse = true
			recv(t, drained, "drain")
		}
	}
	if b := recv(t, got, "echo"); !bytes.Equal(b, bytes.Repeat(block, total/len(block))) {
		t.Fatal("echo differs")
	}
	if !sawFalse {
		t.Error("Write never asked to wait for drain")
	}
	s.End()
	recv(t, closed, "close")
}

func TestWriteCallbacksInOrder(t *testing.T) {
	port := startEchoServer(t)
	s, err := Connect(Options{"host": "localhost", "port": port, "ca": pem(t, "ca-cert.pem")})
	if err != nil {
		t.Fatal(err)
	}
	done, onDone := signal[string]()
	s.WriteFunc([]byte("one"), func(err error) { onDone("one " + errText(err)) })
	s.WriteFunc([]byte("two"), func(err error) { onDone("two " + errText(err)) })
	if a, b := recv(t, done, "first write"), recv(t, done, "second write"); a != "one ok" || b != "two ok" {
		t.Errorf("write callbacks: %q, %q", a, b)
	}
	s.Destroy()
}

func TestDestroyFromListenerAndUnstartedSocket(t *testing.T) {
	port := startEchoServer(t)
	s, err := Connect(Options{"host": "localhost", "port": port, "ca": pem(t, "ca-cert.pem")})
	if err != nil {
		t.Fatal(err)
	}
	s.OnSecureConnect(func() { s.Destroy() }) // a listener may destroy its own socket
	closed, onClose := signal[bool]()
	s.OnClose(onClose)
	if recv(t, closed, "close") {
		t.Error("had_error after destroy")
	}

	u, err := NewSocket()
	if err != nil {
		t.Fatal(err)
	}
	u.OnClose(onClose)
	u.Destroy() // never started: close still comes, and releases the handle
	recv(t, closed, "close of an unstarted socket")
}

func errText(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}
