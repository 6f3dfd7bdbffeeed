package nodetls

/*
#include "nodetls.h"
*/
import "C"

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net"
	"runtime"
	"sync"
)

// tlsVersions maps getProtocol()'s answer to crypto/tls's numbers.
var tlsVersions = map[string]uint16{"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

// suiteIDs maps IANA suite names (getCipher().standardName) to their numbers; crypto/tls
// serves as the table only.
var suiteIDs = sync.OnceValue(func() map[string]uint16 {
	ids := map[string]uint16{}
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, s := range list {
			ids[s.Name] = s.ID
		}
	}
	return ids
})

// peerChain holds the peer's certificate handle from the end of the handshake until the
// Conn is collected; it is parsed into crypto/x509 form on the first ConnectionState.
type peerChain struct {
	cert  *C.ntls_cert
	once  sync.Once
	certs []*x509.Certificate
}

// snapshot records, at the end of the handshake and on the loop thread, what the getters
// answer then: the library's answers go away at close, a Conn's must not. c.mu is held.
func (c *Conn) snapshot() {
	p := c.s.borrow()
	if p == nil {
		return
	}
	defer C.ntls_socket_unref(p)
	in := readInfo(p)
	c.local, c.remote = tcpAddr(in.local), tcpAddr(in.remote)
	c.authErr = in.authorizationError
	c.state = tls.ConnectionState{
		Version:                    tlsVersions[in.protocol],
		HandshakeComplete:          true,
		DidResume:                  C.ntls_socket_is_session_reused(p) == 1,
		CipherSuite:                suiteIDs()[in.cipher.StandardName],
		NegotiatedProtocol:         in.alpn,
		NegotiatedProtocolIsMutual: true,
		ServerName:                 in.servername,
	}
	var cert *C.ntls_cert
	if C.ntls_socket_get_peer_certificate(p, 1, &cert) == 0 {
		// The handle is small; the chain is only decoded if someone asks.
		c.chain = &peerChain{cert: cert}
		runtime.AddCleanup(c, func(cert *C.ntls_cert) { C.ntls_cert_unref(cert) }, cert)
	}
}

// ConnectionState reports the handshake in crypto/tls's terms, for code written against
// *tls.Conn (net/http, x/net/http2): Version, CipherSuite, NegotiatedProtocol,
// ServerName, DidResume, HandshakeComplete, and PeerCertificates, the peer's chain leaf
// first as Node's getPeerCertificate(true) links it (so it may end with the CA from
// `ca` that the peer did not send). VerifiedChains holds that chain when the library
// verified it. The zero value before the handshake finished.
func (c *Conn) ConnectionState() tls.ConnectionState {
	c.mu.Lock()
	st, chain, authorized := c.state, c.chain, c.authErr == "" && c.state.HandshakeComplete
	c.mu.Unlock()
	if chain != nil {
		chain.once.Do(func() { chain.certs = parseChain(chain.cert) })
		runtime.KeepAlive(c) // the cleanup must not free cert during the parse
		st.PeerCertificates = chain.certs
		if authorized && len(chain.certs) > 0 {
			st.VerifiedChains = [][]*x509.Certificate{chain.certs}
		}
	}
	return st
}

// parseChain walks Node's certificate object (issuerCertificate links, raw DER in base64).
func parseChain(cert *C.ntls_cert) []*x509.Certificate {
	type node struct {
		Raw    string          `json:"raw"`
		Issuer json.RawMessage `json:"issuerCertificate"`
	}
	var certs []*x509.Certificate
	text := []byte(C.GoString(C.ntls_cert_to_json(cert)))
	prev := ""
	for len(text) > 0 {
		var n node
		if json.Unmarshal(text, &n) != nil || n.Raw == "" || n.Raw == prev {
			break // the end, or a self-signed root shown again as its own issuer
		}
		der, err := base64.StdEncoding.DecodeString(n.Raw)
		if err != nil {
			break
		}
		x, err := x509.ParseCertificate(der)
		if err != nil {
			break
		}
		certs = append(certs, x)
		prev, text = n.Raw, n.Issuer
	}
	return certs
}

func tcpAddr(a Address) net.Addr {
	if a.Address == "" {
		return nil
	}
	return &net.TCPAddr{IP: net.ParseIP(a.Address), Port: a.Port}
}
