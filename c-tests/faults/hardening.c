/* The hardening profile of docs/reliability.md ("Secure defaults and hardening"), applied to
 * one server and each limit shown acting (with shorter times and a smaller maxConnections than
 * the profile's, so that the test is quick):
 *   maxConnections   a client over the limit is closed at once (ECONNRESET), the others stay
 *   handshakeTimeout stalled handshakes are dropped with ERR_TLS_HANDSHAKE_TIMEOUT
 *   idle timeout     a secure connection that goes quiet is destroyed after the idle time
 *                    (setTimeout in secureConnection, destroy on timeout, as Node programs do)
 *   message limits   a ClientHello announcing 16 MiB is refused at once
 *                    (ERR_SSL_EXCESSIVE_MESSAGE_SIZE), nothing buffered
 * and after all of it, connections are 0 and descriptors back. */
#include "client_util.h"
#include "fault_util.h"

#include <unistd.h>

#define MAX_CONNECTIONS 20
#define HANDSHAKE_TIMEOUT_MS 1000
#define IDLE_TIMEOUT_MS 1000

static atomic_int handshake_timeouts, idle_timeouts, other_client_errors;
static char other_code[96];

/* The profile, as a program would write it. */
static void apply_profile_options(ntls_options *o) {
    ntls_options_set_int(o, NTLS_OPT_HANDSHAKE_TIMEOUT, HANDSHAKE_TIMEOUT_MS);
    ntls_options_set_int(o, NTLS_OPT_MAX_CONNECTIONS, MAX_CONNECTIONS);
}
static void on_idle(ntls_socket *s, void *d) {
    (void)d;
    atomic_fetch_add(&idle_timeouts, 1);
    ntls_socket_destroy(s);
}
static void on_data(ntls_socket *s, const uint8_t *b, size_t n, void *d) {
    (void)d;
    if (ntls_socket_write(s, b, n, NULL, NULL) == 0) ntls_socket_pause(s);
}
static void on_drain(ntls_socket *s, void *d) {
    (void)d;
    ntls_socket_resume(s);
}
static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    ntls_socket_set_timeout(s, IDLE_TIMEOUT_MS);
    ntls_socket_on_timeout(s, on_idle);
    ntls_socket_on_drain(s, on_drain);
    ntls_socket_on_data(s, on_data);
}
static void on_client_error(ntls_server *srv, const ntls_error *e, ntls_socket *s, void *d) {
    (void)srv, (void)s, (void)d;
    if (strcmp(ntls_error_code(e), "ERR_TLS_HANDSHAKE_TIMEOUT") == 0) atomic_fetch_add(&handshake_timeouts, 1);
    else {
        snprintf(other_code, sizeof other_code, "%s", ntls_error_code(e));
        atomic_fetch_add(&other_client_errors, 1);
    }
}

/* A peer that starts a ClientHello and stalls. */
static int stalled_peer(int port) {
    int fd = fu_raw_connect(port);
    CHECK(fd >= 0);
    CHECK(write(fd, "\x16\x03\x01", 3) == 3);
    return fd;
}

int main(void) {
    tu_init(60);
    ntls_options *so = tu_server_options("server-ec");
    apply_profile_options(so);
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, on_secure);
    ntls_server_on_tls_client_error(srv, on_client_error);
    int port = tu_listen(srv);
    fu_echo_once(port, "warm");
    WAIT_FOR(ntls_server_connections(srv) == 0, 5000);
    int base_fds = fu_count_fds();

    /* maxConnections: 20 stalled handshakes fill the server; the 21st is closed at once. */
    int stalled[MAX_CONNECTIONS];
    double t0 = fu_now_ms();
    for (int i = 0; i < MAX_CONNECTIONS; i++) stalled[i] = stalled_peer(port);
    WAIT_FOR(ntls_server_connections(srv) == MAX_CONNECTIONS, 2000);
    tu_client over;
    over.send_on_secure = "over";
    over.hold = 0;
    tu_client_connect(&over, NULL, port, NULL);
    tu_client_wait_closed(&over, 2000);
    printf("maxConnections %d: client %d closed before secure (%s) after %.0f ms; connections %d\n", MAX_CONNECTIONS,
           MAX_CONNECTIONS + 1, over.error_code, fu_now_ms() - t0, ntls_server_connections(srv));
    CHECK_INT(atomic_load(&over.secure), 0);
    CHECK_STR(over.error_code, "ECONNRESET");
    CHECK_INT(ntls_server_connections(srv), MAX_CONNECTIONS);
    tu_client_free(&over);

    /* handshakeTimeout: the 20 are dropped. */
    WAIT_FOR(atomic_load(&handshake_timeouts) == MAX_CONNECTIONS, HANDSHAKE_TIMEOUT_MS + 5000);
    double dropped = fu_now_ms() - t0;
    printf("handshakeTimeout %d ms: %d stalled handshakes dropped (ERR_TLS_HANDSHAKE_TIMEOUT) after %.0f ms\n",
           HANDSHAKE_TIMEOUT_MS, MAX_CONNECTIONS, dropped);
    CHECK(dropped >= HANDSHAKE_TIMEOUT_MS - 50);
    WAIT_FOR(ntls_server_connections(srv) == 0, 5000);
    for (int i = 0; i < MAX_CONNECTIONS; i++) close(stalled[i]);

    /* Idle timeout: a client echoes once, then says nothing. */
    tu_client idle;
    idle.send_on_secure = "then silence";
    idle.hold = 1;
    t0 = fu_now_ms();
    tu_client_connect(&idle, NULL, port, NULL);
    tu_client_wait_closed(&idle, IDLE_TIMEOUT_MS + 5000);
    double idle_ms = fu_now_ms() - t0;
    printf("idle timeout %d ms: the quiet connection was closed after %.0f ms (timeout events %d)\n",
           IDLE_TIMEOUT_MS, idle_ms, atomic_load(&idle_timeouts));
    CHECK_STR(idle.received, "then silence");
    CHECK_INT(atomic_load(&idle_timeouts), 1);
    CHECK(idle_ms >= IDLE_TIMEOUT_MS);
    tu_client_free(&idle);

    /* Message limits: the announced 16 MiB are refused before being buffered. */
    char line[256];
    fu_hostile("huge_message", port, line, sizeof line);
    WAIT_FOR(atomic_load(&other_client_errors) == 1, 5000);
    printf("16 MiB ClientHello: tlsClientError %s (%s)\n", other_code, line);
    CHECK_STR(other_code, "ERR_SSL_EXCESSIVE_MESSAGE_SIZE");

    WAIT_FOR(ntls_server_connections(srv) == 0, 5000);
    WAIT_FOR(fu_count_fds() == base_fds, 5000);
    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    printf("ok: every limit acted; connections 0, descriptors back to %d\n", base_fds);
    return 0;
}
