/* server.close() with connections open: no new connections, the loop stays busy, and the
 * server's close fires once, after every connection has closed (each exactly once). */
#include "client_util.h"

#define N 5
static atomic_int server_closed;

static void on_server_close(ntls_server *srv, void *d) {
    (void)srv, (void)d;
    atomic_fetch_add(&server_closed, 1);
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
