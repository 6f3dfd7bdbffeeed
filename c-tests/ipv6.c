/* IPv6: a server on [::1] and a client to it (the certificate names ::1), with the
 * addresses, ports and families on both ends; ntls_loop_call runs on the loop's thread. */
#include "client_util.h"

#include <pthread.h>

static void to_v6(ntls_options *o) {
    ntls_options_set_string(o, NTLS_OPT_HOST, "::1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "::1");
}

static atomic_int call_ran;
static pthread_t main_thread, call_thread;
static void on_loop(void *arg) {
    call_thread = pthread_self();
    atomic_store((atomic_int *)arg, 1);
}

static atomic_int listening;
static void on_listen(ntls_server *srv, int status, void *d) {
    (void)srv, (void)d;
    atomic_store(&listening, status == 0 ? 1 : status);
}

int main(void) {
    tu_init(60);
    main_thread = pthread_self();
    CHECK_INT(ntls_loop_call(NULL, on_loop, &call_ran), 0);
    WAIT_FOR(atomic_load(&call_ran) == 1, 5000);
    CHECK(!pthread_equal(main_thread, call_thread));

    ntls_options *so = tu_server_options("server-ec");
    tu_echo_server e;
    memset(&e, 0, sizeof e);
    CHECK_INT(ntls_server_new(NULL, so, &e.srv), 0);
    tu_echo_attach(&e);
    CHECK_INT(ntls_server_listen(e.srv, "::1", 0, on_listen), 0);
    WAIT_FOR(atomic_load(&listening) != 0, 5000);
    CHECK_INT(atomic_load(&listening), 1);
    char host[64];
    int port = 0, family = 0;
    CHECK_INT(ntls_server_address(e.srv, host, sizeof host, &port, &family), 0);
    CHECK_STR(host, "::1");
    CHECK_INT(family, 6);
    CHECK_INT(ntls_server_address(e.srv, host, 2, NULL, NULL), NTLS_EINVAL); /* buffer too small */

    tu_client c;
    c.send_on_secure = "over ipv6";
    c.hold = 1;
    tu_client_connect(&c, NULL, port, to_v6);
    WAIT_FOR(atomic_load(&c.received_len) == 9, 5000);
    CHECK_STR(c.received, "over ipv6");
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    CHECK_INT(ntls_socket_encrypted(c.s), 1);
    int rport = 0, lport = 0, rfam = 0, lfam = 0;
    char rhost[64], lhost[64];
    CHECK_INT(ntls_socket_remote_address(c.s, rhost, sizeof rhost, &rport, &rfam), 0);
    CHECK_INT(ntls_socket_local_address(c.s, lhost, sizeof lhost, &lport, &lfam), 0);
    CHECK_STR(rhost, "::1");
    CHECK_INT(rport, port);
    CHECK_INT(rfam, 6);
    CHECK_STR(lhost, "::1");
    CHECK(lport > 0 && lport != port);
    CHECK(ntls_socket_servername(c.s) == NULL); /* no SNI for an IP address, as in Node */
    ntls_socket_end(c.s);
    tu_client_wait_closed(&c, 5000);
    tu_client_free(&c);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    printf("IPv6 round trip done\n");
    return 0;
}
