// Go's crypto/tls client as a ClientHello source for tests/client_hello_peers.rs: dials
// 127.0.0.1:PORT and starts a handshake (which never finishes: the other end only reads).
// usage: go run hello_client.go PORT
package main

import (
	"crypto/tls"
	"net"
	"os"
	"time"
)

func main() {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+os.Args[1], 10*time.Second)
	if err != nil {
		os.Exit(1)
	}
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(conn, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true})
	_ = c.Handshake()
}
