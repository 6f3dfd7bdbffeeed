/* Trampolines: each turns nodetls's `void *data` back into the cgo.Handle integer and
 * calls the exported Go function. See bridge.h. */
#include "bridge.h"
#include "_cgo_export.h"

static void socket_secure(ntls_socket *s, void *d) { (void)s; goSocketEvent((uintptr_t)d, NTLSGO_SECURE_CONNECT); }
static void socket_end(ntls_socket *s, void *d) { (void)s; goSocketEvent((uintptr_t)d, NTLSGO_END); }
static void socket_drain(ntls_socket *s, void *d) { (void)s; goSocketEvent((uintptr_t)d, NTLSGO_DRAIN); }
static void socket_timeout(ntls_socket *s, void *d) { (void)s; goSocketEvent((uintptr_t)d, NTLSGO_TIMEOUT); }

static void socket_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)s;
    goSocketData((uintptr_t)d, (uint8_t *)buf, len);
}

static void socket_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    goSocketClose((uintptr_t)d, had_error);
}

static void socket_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s;
    goSocketError((uintptr_t)d, (ntls_error *)err);
}

static void write_done(ntls_socket *s, int status, void *arg) {
    (void)s;
    goWriteDone((uintptr_t)arg, status);
}

static void server_listening(ntls_server *srv, void *d) { (void)srv; goServerEvent((uintptr_t)d, NTLSGO_LISTENING, NULL); }
static void server_close(ntls_server *srv, void *d) { (void)srv; goServerEvent((uintptr_t)d, NTLSGO_SERVER_CLOSE, NULL); }

static void server_error(ntls_server *srv, const ntls_error *err, void *d) {
    (void)srv;
    goServerEvent((uintptr_t)d, NTLSGO_SERVER_ERROR, (ntls_error *)err);
}

static void server_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *d) {
    (void)srv;
    (void)s;
    goServerEvent((uintptr_t)d, NTLSGO_CLIENT_ERROR, (ntls_error *)err);
}

static void server_connection(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv;
    goServerConnection((uintptr_t)d, s);
}

static void loop_fn(void *arg) { goLoopCall((uintptr_t)arg); }

int ntlsgo_socket_install(ntls_socket *s, uintptr_t handle) {
    int rc = ntls_socket_set_data(s, (void *)handle);
    if (rc == 0) rc = ntls_socket_on_secure_connect(s, socket_secure);
    if (rc == 0) rc = ntls_socket_on_end(s, socket_end);
    if (rc == 0) rc = ntls_socket_on_close(s, socket_close);
    if (rc == 0) rc = ntls_socket_on_error(s, socket_error);
    if (rc == 0) rc = ntls_socket_on_drain(s, socket_drain);
    if (rc == 0) rc = ntls_socket_on_timeout(s, socket_timeout);
    return rc;
}

int ntlsgo_socket_start_reading(ntls_socket *s) { return ntls_socket_on_data(s, socket_data); }

int ntlsgo_socket_write(ntls_socket *s, const void *buf, size_t len, uintptr_t done) {
    return ntls_socket_write(s, buf, len, done ? write_done : NULL, (void *)done);
}

int ntlsgo_server_install(ntls_server *srv, uintptr_t handle) {
    int rc = ntls_server_set_data(srv, (void *)handle);
    if (rc == 0) rc = ntls_server_on_secure_connection(srv, server_connection);
    if (rc == 0) rc = ntls_server_on_tls_client_error(srv, server_client_error);
    if (rc == 0) rc = ntls_server_on_listening(srv, server_listening);
    if (rc == 0) rc = ntls_server_on_close(srv, server_close);
    if (rc == 0) rc = ntls_server_on_error(srv, server_error);
    return rc;
}

int ntlsgo_server_listen(ntls_server *srv, const char *host, int port) {
    return ntls_server_listen(srv, host, port, NULL);
}

int ntlsgo_server_close(ntls_server *srv) { return ntls_server_close(srv, NULL); }

int ntlsgo_loop_call(uintptr_t fn) { return ntls_loop_call(NULL, loop_fn, (void *)fn); }
