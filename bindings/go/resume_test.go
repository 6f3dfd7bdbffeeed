package nodetls

import (
	"crypto/tls"
	"io"
	"net"
	"testing"
	"time"
)

// A crypto/tls client that kept the ticket of its first connection resumes on the
// second: DidResume is the library's isSessionReused, on our side as on Go's.
func TestDidResumeWithGoClient(t *testing.T) {
	l := listen(t, serverConfig(t))
	states := make(chan bool, 2)
	go serveEach(l, func(c net.Conn) {
		states <- c.(*Conn).ConnectionState().DidResume
		io.Copy(io.Discard, c)
	})
	cfg := &tls.Config{RootCAs: caPool(t), ServerName: "localhost", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	for i, want := range []bool{false, true} {
		conn, err := tls.Dial("tcp", l.Addr().String(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		// TLS 1.3 tickets come after the handshake: one round trip of data brings them.
		conn.Write([]byte("x"))
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		conn.Read(make([]byte, 1))
		ours := recv(t, states, "accept")
		if ours != want || conn.ConnectionState().DidResume != want {
			t.Errorf("connection %d: DidResume ours %v, Go's %v, want %v", i, ours, conn.ConnectionState().DidResume, want)
		}
		conn.Close()
	}
}
