/* C side of the cgo bridge: installs the trampolines that forward nodetls's callbacks
 * to the exported Go functions in callbacks.go. User data is a runtime/cgo.Handle, which
 * travels as an integer: C never holds a Go pointer. */
#ifndef NODETLS_GO_BRIDGE_H
#define NODETLS_GO_BRIDGE_H
#include <stdint.h>
#include "nodetls.h"

/* Event kinds passed to goSocketEvent / goServerEvent. */
enum {
    NTLSGO_SECURE_CONNECT = 1,
    NTLSGO_END,
    NTLSGO_DRAIN,
    NTLSGO_TIMEOUT,
    NTLSGO_LISTENING = 10,
    NTLSGO_SERVER_CLOSE,
    NTLSGO_SERVER_ERROR,
    NTLSGO_CLIENT_ERROR,
};

int ntlsgo_socket_install(ntls_socket *s, uintptr_t handle);
int ntlsgo_socket_start_reading(ntls_socket *s);
int ntlsgo_socket_write(ntls_socket *s, const void *buf, size_t len, uintptr_t done);
int ntlsgo_server_install(ntls_server *srv, uintptr_t handle);
int ntlsgo_server_listen(ntls_server *srv, const char *host, int port);
int ntlsgo_server_close(ntls_server *srv);
int ntlsgo_loop_call(uintptr_t fn);
#endif
