/* A data listener set from another thread on a live socket starts the flow at once, as
 * Node's on('data') does: the echo that arrived while nobody listened is delivered without
 * any further traffic (the loop is woken, not left waiting for the next readiness). */
#include "test_util.h"

#include <unistd.h>

static atomic_int secure, received;
static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    CHECK(ntls_socket_write(s, "ping", 4, NULL, NULL) >= 0);
    atomic_store(&secure, 1);
}
static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)s, (void)buf, (void)d;
    atomic_fetch_add(&received, (int)len);
}

int main(void) {
    tu_init(30);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    ntls_options_unref(so);
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, e.port);
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    ntls_socket_on_secure_connect(s, on_secure);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    ntls_options_unref(o);
    WAIT_FOR(atomic_load(&secure) == 1, 5000);
    tu_sleep_ms(300); /* the echo is back and waits in the kernel; nobody listens yet */
    CHECK_INT(atomic_load(&received), 0);
    ntls_socket_on_data(s, on_data);
    WAIT_FOR(atomic_load(&received) == 4, 3000);
    printf("a listener set 300 ms after the echo arrived got it: %d bytes\n", atomic_load(&received));
    ntls_socket_destroy(s);
    ntls_socket_unref(s);
    tu_echo_stop(&e);
    return 0;
}
