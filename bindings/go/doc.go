// Package nodetls is Node.js's tls module for Go, over libnodetls (Rust, rustls) via cgo.
//
// # net.Conn and net.Listener
//
// Dial, DialContext and Listen give a *Conn (a net.Conn with deadlines, backpressure,
// CloseWrite and ConnectionState) and a net.Listener, configured by a typed Config, so
// code written for crypto/tls runs on them: http.Serve(l, handler) serves HTTPS, and
// x/net/http2's ServeConn serves h2 on a connection where ALPN chose "h2".
//
//	l, err := nodetls.Listen("tcp", "localhost:8443", &nodetls.Config{KeyFile: "key.pem", CertFile: "cert.pem"})
//	log.Fatal(http.Serve(l, handler))
//
//	c, err := nodetls.Dial("tcp", "example.com:443", nil)
//	if errors.Is(err, nodetls.ErrConnRefused) { ... }
//
// Errors work with errors.Is and errors.As: sentinels such as ErrConnRefused (which also
// match syscall.ECONNREFUSED), *CertificateError for a certificate that does not verify,
// *Error with Node's err.code for every failure.
//
// # Node's events
//
//	srv, err := nodetls.CreateServer(nodetls.Options{"key": keyPEM, "cert": certPEM})
//	srv.OnSecureConnection(func(s *nodetls.Socket) {
//		s.OnData(func(b []byte) { s.Write(b) })
//	})
//	srv.Listen("127.0.0.1", 0)
//
//	s, err := nodetls.Connect(nodetls.Options{"host": "localhost", "port": 8443, "ca": caPEM})
//	s.OnSecureConnect(func() { s.Write([]byte("hello")) })
//	s.OnData(func(b []byte) { fmt.Printf("%s\n", b) })
//
// # Threads
//
// The library runs its own loop thread; every listener runs there, one at a time, never
// inside the call that caused it. Listeners must not block (hand work to a goroutine or a
// buffered channel). Every method may be called from any goroutine, listeners included.
//
// Events that happen at most once (secureConnect, end, error and close on a socket;
// listening, error and close on a server) are remembered: a listener added after the
// event is still called once, on the loop thread. So Connect may start the connection
// before the caller has added its listeners, as Node's tls.connect does. Reading starts
// with the first OnData (or Resume), as in Node.
//
// Error words live on the handle, never on the thread (a goroutine may move between OS
// threads between two cgo calls), so every error here is read from the object that failed.
//
// Handles are released at their close event; afterwards getters return their last values
// and calls return an *Error with Code "ECLOSED".
package nodetls
