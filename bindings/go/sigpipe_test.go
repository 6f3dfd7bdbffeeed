package nodetls

import (
	"os"
	"os/exec"
	"testing"
	"time"
)

// resetAfterHandshake makes the server write to a connection its client reset.
func resetAfterHandshake(t *testing.T) {
	port := startEchoServer(t)
	s, err := Connect(Options{"host": "127.0.0.1", "port": port, "rejectUnauthorized": false})
	if err != nil {
		t.Fatal(err)
	}
	s.OnSecureConnect(func() { s.Destroy() })
	closed, onClose := signal[bool]()
	s.OnClose(onClose)
	recv(t, closed, "close")
	time.Sleep(200 * time.Millisecond) // the server's writes to the dead connection
}

// TestPeerResetIsSurvivable runs the case in a child process: a SIGPIPE raised on the
// library's loop thread would kill a Go program, so the child must exit normally.
func TestPeerResetIsSurvivable(t *testing.T) {
	if os.Getenv("NODETLS_SIGPIPE_CHILD") == "1" {
		resetAfterHandshake(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeerResetIsSurvivable$", "-test.count=1")
	cmd.Env = append(os.Environ(), "NODETLS_SIGPIPE_CHILD=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
