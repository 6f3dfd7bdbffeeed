/* setTimeout: the `timeout` event after the given idle time, once per idle spell, the
 * socket left open (as in Node); 0 disables it; the `timeout` option does the same. */
#include "client_util.h"

#include <time.h>

static atomic_int timeouts;
static atomic_long fired_at_ms;

static long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void on_timeout(ntls_socket *s, void *d) {
    (void)s, (void)d;
    atomic_store(&fired_at_ms, now_ms());
    atomic_fetch_add(&timeouts, 1);
}

static void with_timeout_option(ntls_options *o) { ntls_options_set_int(o, NTLS_OPT_TIMEOUT, 150); }

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    tu_client c;
    c.send_on_secure = "x";
    c.hold = 1;
    tu_client_connect(&c, NULL, e.port, NULL);
    WAIT_FOR(atomic_load(&c.received_len) == 1, 5000);
    CHECK_INT(ntls_socket_on_timeout(c.s, on_timeout), 0);
    long start = now_ms();
    CHECK_INT(ntls_socket_set_timeout(c.s, 150), 0);
    WAIT_FOR(atomic_load(&timeouts) == 1, 3000);
    long waited = atomic_load(&fired_at_ms) - start;
    printf("timeout after %ld ms idle\n", waited);
    CHECK(waited >= 140 && waited < 2000);
    tu_sleep_ms(400);
    CHECK_INT(atomic_load(&timeouts), 1); /* once per idle spell */
    CHECK_INT(atomic_load(&c.closed), 0); /* still open */
    ntls_socket_write(c.s, "y", 1, NULL, NULL); /* activity re-arms it */
    WAIT_FOR(atomic_load(&timeouts) == 2, 3000);
    CHECK_INT(ntls_socket_set_timeout(c.s, 0), 0); /* disabled */
    ntls_socket_write(c.s, "z", 1, NULL, NULL);
    tu_sleep_ms(400);
    CHECK_INT(atomic_load(&timeouts), 2);
    ntls_socket_end(c.s);
    tu_client_wait_closed(&c, 5000);
    tu_client_free(&c);

    tu_client d; /* the `timeout` option */
    d.send_on_secure = "x";
    d.hold = 1;
    tu_client_connect(&d, NULL, e.port, with_timeout_option);
    CHECK_INT(ntls_socket_on_timeout(d.s, on_timeout), 0);
    WAIT_FOR(atomic_load(&timeouts) == 3, 3000);
    ntls_socket_end(d.s);
    tu_client_wait_closed(&d, 5000);
    tu_client_free(&d);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
