package nodetls

/*
#include "nodetls.h"
*/
import "C"

// Cipher is getCipher()'s object.
type Cipher struct {
	// Name is OpenSSL's name of the suite ("ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_256_GCM_SHA384").
	Name string
	// StandardName is the IANA name.
	StandardName string
	// Version is the protocol version that introduced the suite ("TLSv1.2", "TLSv1.3").
	Version string
}

// Address is Node's address object.
type Address struct {
	// Address is the IP address as text.
	Address string
	// Port is the TCP port.
	Port int
	// Family is "IPv4" or "IPv6".
	Family string
}

// info is everything a socket's getters report; read live while the handle is open, and
// kept as the last values once it is released.
type info struct {
	authorized         bool
	authorizationError string
	protocol           string
	cipher             Cipher
	alpn               string
	servername         string
	remote, local      Address
	bytesRead          uint64
	bytesWritten       uint64
}

func goStr(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

func readInfo(p *C.ntls_socket) info {
	var name, std, ver *C.char
	in := info{
		authorized:         C.ntls_socket_authorized(p) == 1,
		authorizationError: goStr(C.ntls_socket_authorization_error(p)),
		protocol:           goStr(C.ntls_socket_get_protocol(p)),
		alpn:               goStr(C.ntls_socket_alpn_protocol(p)),
		servername:         goStr(C.ntls_socket_servername(p)),
		bytesRead:          uint64(C.ntls_socket_bytes_read(p)),
		bytesWritten:       uint64(C.ntls_socket_bytes_written(p)),
	}
	if C.ntls_socket_get_cipher(p, &name, &std, &ver) >= 0 {
		in.cipher = Cipher{Name: goStr(name), StandardName: goStr(std), Version: goStr(ver)}
	}
	var host [64]C.char // INET6_ADDRSTRLEN is 46
	var port, family C.int
	if C.ntls_socket_remote_address(p, &host[0], C.size_t(len(host)), &port, &family) >= 0 {
		in.remote = makeAddress(&host[0], port, family)
	}
	if C.ntls_socket_local_address(p, &host[0], C.size_t(len(host)), &port, &family) >= 0 {
		in.local = makeAddress(&host[0], port, family)
	}
	return in
}

func makeAddress(host *C.char, port, family C.int) Address {
	a := Address{Address: C.GoString(host), Port: int(port), Family: "IPv4"}
	if family == 6 {
		a.Family = "IPv6"
	}
	return a
}
