/* Several loops serve one port (reusePort, Node's cluster pattern): each loop's server
 * takes a share of the connections, and every connection echoes. */
#include "client_util.h"

#define CLIENTS 40

int main(void) {
    tu_init(60);
    ntls_loop *l1, *l2;
    CHECK_INT(ntls_loop_new(&l1), 0);
    CHECK_INT(ntls_loop_new(&l2), 0);
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_bool(so, NTLS_OPT_REUSE_PORT, 1);
    tu_echo_server a, b;
    tu_echo_start(&a, l1, so);
    tu_echo_start_on(&b, l2, so, a.port);
    CHECK_INT(b.port, a.port);
    static tu_client clients[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        clients[i].send_on_secure = "share";
        clients[i].hold = 0;
        tu_client_connect(&clients[i], NULL, a.port, NULL);
    }
    for (int i = 0; i < CLIENTS; i++) {
        tu_client_wait_closed(&clients[i], 10000);
        CHECK_STR(clients[i].received, "share");
        tu_client_free(&clients[i]);
    }
    printf("loop 1 served %d, loop 2 served %d\n", atomic_load(&a.secure), atomic_load(&b.secure));
    CHECK_INT(atomic_load(&a.secure) + atomic_load(&b.secure), CLIENTS);
    CHECK(atomic_load(&a.secure) > 0 && atomic_load(&b.secure) > 0);
    tu_echo_stop(&a);
    tu_echo_stop(&b);
    CHECK_INT(ntls_loop_close(l1), 0);
    CHECK_INT(ntls_loop_close(l2), 0);
    ntls_loop_unref(l1);
    ntls_loop_unref(l2);
    ntls_options_unref(so);
    return 0;
}
