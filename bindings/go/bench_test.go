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

// sink reads every accepted connection to its end.
func sink(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			io.Copy(io.Discard, c)
			c.Close()
		}()
	}
}

func BenchmarkWrite64K(b *testing.B) {
	for _, s := range stacks(b) {
		b.Run(s.name, func(b *testing.B) {
			l := s.listen(b)
			defer l.Close()
			go sink(l)
			c := s.dial(b, l.Addr().String())
			defer c.Close()
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRead64K(b *testing.B) {
	for _, s := range stacks(b) {
		b.Run(s.name, func(b *testing.B) {
			l := s.listen(b)
			defer l.Close()
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				if h, ok := c.(interface{ Handshake() error }); ok {
					h.Handshake()
				}
				buf := make([]byte, 64<<10)
				for {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			}()
			c := s.dial(b, l.Addr().String())
			defer c.Close()
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := io.ReadFull(c, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHandshake(b *testing.B) {
	for _, s := range stacks(b) {
		b.Run(s.name, func(b *testing.B) {
			l := s.listen(b)
			defer l.Close()
			go sink(l)
			for i := 0; i < b.N; i++ {
				c := s.dial(b, l.Addr().String())
				c.Close()
			}
		})
	}
}
