package nodetls

import (
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"testing"
)

// Benchmarks of the Go layer against crypto/tls on both ends, same machine, loopback:
//   go test -run '^$' -bench . -benchtime 2s
// (not in the test command). Each side is the same library on both ends, so a ratio
// compares the stacks, not one against the other.

type stack struct {
	name   string
	listen func(b *testing.B) net.Listener
	dial   func(b *testing.B, addr string) net.Conn
}

func stacks(b *testing.B) []stack {
	kp, err := tls.LoadX509KeyPair(filepath.Join(certDir, "server-ec-cert.pem"), filepath.Join(certDir, "server-ec-key.pem"))
	if err != nil {
		b.Fatal(err)
	}
	return []stack{
		{"nodetls", func(b *testing.B) net.Listener {
			l, err := Listen("tcp", "127.0.0.1:0", serverConfig(b))
			if err != nil {
				b.Fatal(err)
			}
			return l
		}, func(b *testing.B, addr string) net.Conn {
			c, err := Dial("tcp", addr, clientConfig(b))
			if err != nil {
				b.Fatal(err)
			}
			return c
		}},
		{"crypto-tls", func(b *testing.B) net.Listener {
			l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp}})
			if err != nil {
				b.Fatal(err)
			}
			return l
		}, func(b *testing.B, addr string) net.Conn {
			c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: caPool(b), ServerName: "localhost"})
			if err != nil {
				b.Fatal(err)
			}
			return c
		}},
	}
}

// sinkFor is a listener of the stack that reads every connection to its end.
func sinkFor(b *testing.B, s stack) net.Listener {
	l := s.listen(b)
	go serveEach(l, func(c net.Conn) { io.Copy(io.Discard, c) })
	return l
}

// perBlock times b.N calls of op on a 64 KiB block.
func perBlock(b *testing.B, op func([]byte) error) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := op(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWrite64K(b *testing.B) {
	for _, s := range stacks(b) {
		b.Run(s.name, func(b *testing.B) {
			l := sinkFor(b, s)
			defer l.Close()
			c := s.dial(b, l.Addr().String())
			defer c.Close()
			perBlock(b, func(buf []byte) error { _, err := c.Write(buf); return err })
		})
	}
}

func BenchmarkRead64K(b *testing.B) {
	for _, s := range stacks(b) {
		b.Run(s.name, func(b *testing.B) {
			l := s.listen(b)
			defer l.Close()
			go serveEach(l, func(c net.Conn) {
				buf := make([]byte, 64<<10)
				for {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			})
			c := s.dial(b, l.Addr().String())
			defer c.Close()
			perBlock(b, func(buf []byte) error { _, err := io.ReadFull(c, buf); return err })
		})
	}
}

func BenchmarkHandshake(b *testing.B) {
	for _, s := range stacks(b) {
		b.Run(s.name, func(b *testing.B) {
			l := sinkFor(b, s)
			defer l.Close()
			for i := 0; i < b.N; i++ {
				c := s.dial(b, l.Addr().String())
				c.Close()
			}
		})
	}
}
