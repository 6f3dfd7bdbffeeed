/* server.close() with connections open: no new connections, the loop stays busy, and the
 * server's close fires once, after every connection has closed (each exactly once); and a
 * close() made while a listen is still binding fires too when that bind then fails. */
#include "client_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define N 5
static atomic_int server_closed;

static void on_server_close(ntls_server *srv, void *d) {
    (void)srv, (void)d;
    atomic_fetch_add(&server_closed, 1);
}

static atomic_int bind_errors, busy_closed;
static void on_bind_error(ntls_server *srv, const ntls_error *err, void *d) {
    (void)srv, (void)d;
    CHECK_STR(ntls_error_code(err), "EADDRINUSE");
    atomic_fetch_add(&bind_errors, 1);
}
static void on_busy_close(ntls_server *srv, void *d) {
    (void)srv, (void)d;
    CHECK_INT(atomic_load(&bind_errors), 1); /* the error first, then close */
    atomic_fetch_add(&busy_closed, 1);
}

/* listen on a port in use, close() at once: error EADDRINUSE, then close, once each. */
static void close_while_binding(ntls_loop *loop, ntls_options *so, int busy_port) {
    ntls_server *srv;
    CHECK_INT(ntls_server_new(loop, so, &srv), 0);
    ntls_server_on_error(srv, on_bind_error);
    ntls_server_on_close(srv, on_busy_close);
    CHECK_INT(ntls_server_listen(srv, "127.0.0.1", busy_port, NULL), 0);
    CHECK_INT(ntls_server_close(srv, NULL), 0);
    WAIT_FOR(atomic_load(&busy_closed) == 1, 5000);
    tu_sleep_ms(20);
    CHECK_INT(atomic_load(&busy_closed), 1);
    CHECK_INT(atomic_load(&bind_errors), 1);
    ntls_server_unref(srv);
}

int main(void) {
    tu_init(60);
    ntls_loop *loop;
    CHECK_INT(ntls_loop_new(&loop), 0);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, loop, so);
    ntls_server_on_close(e.srv, on_server_close);

    static tu_client clients[N];
    for (int i = 0; i < N; i++) {
        clients[i].send_on_secure = "ping";
        tu_client_connect(&clients[i], NULL, e.port, NULL);
    }
    for (int i = 0; i < N; i++) WAIT_FOR(atomic_load(&clients[i].received_len) == 4, 5000);
    /* Each client ended after its echo; start over with clients that stay open. */
    for (int i = 0; i < N; i++) tu_client_wait_closed(&clients[i], 5000);
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    for (int i = 0; i < N; i++) {
        tu_client_free(&clients[i]);
        clients[i].send_on_secure = "stay";
        clients[i].hold = 1;
        tu_client_connect(&clients[i], NULL, e.port, NULL);
    }
    for (int i = 0; i < N; i++) WAIT_FOR(atomic_load(&clients[i].received_len) == 4, 5000);
    CHECK_INT(ntls_server_connections(e.srv), N);

    CHECK_INT(ntls_server_close(e.srv, NULL), 0);
    CHECK_INT(ntls_server_close(e.srv, NULL), NTLS_EALREADY);
    CHECK_INT(ntls_loop_close(loop), NTLS_EBUSY); /* handles still open */

    tu_client late;
    late.send_on_secure = NULL;
    late.hold = 0;
    tu_client_connect(&late, NULL, e.port, NULL);
    tu_client_wait_closed(&late, 5000);
    CHECK_STR(late.error_code, "ECONNREFUSED");
    tu_client_free(&late);

    tu_sleep_ms(50);
    CHECK_INT(atomic_load(&server_closed), 0);
    {
        /* A port taken by a plain listening socket (no SO_REUSEPORT, so the bind must fail). */
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t alen = sizeof a;
        CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0);
        CHECK(getsockname(fd, (struct sockaddr *)&a, &alen) == 0);
        close_while_binding(loop, so, ntohs(a.sin_port));
        close(fd);
    }
    /* The held clients end now (from this thread, not the loop's). */
    for (int i = 0; i < N; i++) CHECK_INT(ntls_socket_end(clients[i].s), 0);
    for (int i = 0; i < N; i++) tu_client_wait_closed(&clients[i], 5000);
    WAIT_FOR(atomic_load(&server_closed) == 1, 5000);
    CHECK_INT(ntls_server_connections(e.srv), 0);
    CHECK_INT(atomic_load(&e.closed_sockets), 2 * N);
    tu_sleep_ms(50);
    CHECK_INT(atomic_load(&server_closed), 1);
    for (int i = 0; i < N; i++) {
        CHECK_INT(atomic_load(&clients[i].closed), 1);
        CHECK_INT(atomic_load(&clients[i].had_error), 0);
        CHECK_INT(atomic_load(&clients[i].ended), 1);
        tu_client_free(&clients[i]);
    }
    CHECK_INT(ntls_server_on_listening(e.srv, NULL), NTLS_ECLOSED);
    CHECK_INT(ntls_server_listen(e.srv, "127.0.0.1", 0, NULL), NTLS_ECLOSED);
    ntls_server_unref(e.srv);
    CHECK_INT(ntls_loop_close(loop), 0);
    CHECK_INT(ntls_loop_close(loop), NTLS_ECLOSED);
    ntls_loop_unref(loop);
    ntls_options_unref(so);
    printf("server closed after its %d connections\n", N);
    return 0;
}
