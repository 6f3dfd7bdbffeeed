/* handshakeTimeout drops a client that stalls mid-handshake (ERR_TLS_HANDSHAKE_TIMEOUT);
 * maxConnections closes connections over the limit at once; connections counts exactly. */
#include "client_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_int timeouts;
static char timeout_code[64];
static void on_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *d) {
    (void)srv, (void)s, (void)d;
    snprintf(timeout_code, sizeof timeout_code, "%s", ntls_error_code(err));
    atomic_fetch_add(&timeouts, 1);
}

/* A plain TCP connection that must succeed. */
static int connected(int port) {
    int fd = tu_raw_connect(port);
    CHECK(fd >= 0);
    return fd;
}

int main(void) {
    tu_init(60);
    /* handshakeTimeout */
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_int(so, NTLS_OPT_HANDSHAKE_TIMEOUT, 300);
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_tls_client_error(srv, on_client_error);
    int port = tu_listen(srv);
    int fd = connected(port);
    CHECK(write(fd, "\x16\x03\x01", 3) == 3); /* a ClientHello that never finishes */
    WAIT_FOR(ntls_server_connections(srv) == 1, 2000);
    tu_sleep_ms(150);
    CHECK_INT(atomic_load(&timeouts), 0);
    WAIT_FOR(atomic_load(&timeouts) == 1, 3000);
    CHECK_STR(timeout_code, "ERR_TLS_HANDSHAKE_TIMEOUT");
    WAIT_FOR(ntls_server_connections(srv) == 0, 2000);
    char b;
    CHECK(read(fd, &b, 1) <= 0); /* dropped */
    close(fd);
    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_options_set_int(so, NTLS_OPT_HANDSHAKE_TIMEOUT, -1);
    CHECK_INT(ntls_server_new(NULL, so, &srv), NTLS_EINVAL);
    ntls_options_unref(so);

    /* maxConnections */
    so = tu_server_options("server-ec");
    ntls_options_set_int(so, NTLS_OPT_MAX_CONNECTIONS, 2);
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    tu_client held[2];
    for (int i = 0; i < 2; i++) {
        held[i].send_on_secure = "hi";
        held[i].hold = 1;
        tu_client_connect(&held[i], NULL, e.port, NULL);
        WAIT_FOR(atomic_load(&held[i].received_len) == 2, 5000);
    }
    CHECK_INT(ntls_server_connections(e.srv), 2);
    tu_client over;
    over.send_on_secure = "hi";
    over.hold = 0;
    tu_client_connect(&over, NULL, e.port, NULL);
    tu_client_wait_closed(&over, 5000);
    CHECK_INT(atomic_load(&over.secure), 0);
    CHECK_INT(atomic_load(&over.had_error), 1);
    printf("over maxConnections: %s\n", over.error_code);
    CHECK_INT(ntls_server_connections(e.srv), 2);
    tu_client_free(&over);
    for (int i = 0; i < 2; i++) {
        ntls_socket_end(held[i].s);
        tu_client_wait_closed(&held[i], 5000);
        tu_client_free(&held[i]);
    }
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
