/* A write's callback fires once its bytes reached the kernel (status 0), in order; writes
 * still pending when the socket is destroyed complete with NTLS_ECANCELED, before close. */
#include "client_util.h"

static atomic_int done_ok, done_cancelled, order_ok = 1, last_index = -1, closed, cancelled_before_close;

static void on_written(ntls_socket *s, int status, void *arg) {
    (void)s;
    int i = (int)(intptr_t)arg;
    if (status == 0) {
        if (i != atomic_load(&last_index) + 1) atomic_store(&order_ok, 0);
        atomic_store(&last_index, i);
        atomic_fetch_add(&done_ok, 1);
    } else {
        CHECK_INT(status, NTLS_ECANCELED);
        CHECK_INT(atomic_load(&closed), 0); /* before the close event */
        atomic_fetch_add(&done_cancelled, 1);
    }
}

static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_store(&cancelled_before_close, atomic_load(&done_cancelled));
    atomic_store(&closed, 1);
}

static uint8_t big[4 << 20];

static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    for (int i = 0; i < 10; i++) ntls_socket_write(s, "0123456789", 10, on_written, (void *)(intptr_t)i);
}

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    ntls_options *o;
    ntls_options_new(&o);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_int(o, NTLS_OPT_PORT, e.port);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_close(s, on_close);
    ntls_socket_resume(s);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&done_ok) == 10, 5000);
    CHECK_INT(atomic_load(&order_ok), 1);

    /* A peer that reads nothing: big writes stay pending until we destroy the socket. */
    ntls_socket_pause(s);
    for (int i = 0; i < 8; i++) ntls_socket_write(s, big, sizeof big, on_written, (void *)(intptr_t)(100 + i));
    tu_sleep_ms(100);
    CHECK_INT(ntls_socket_destroy(s), 0);
    WAIT_FOR(atomic_load(&closed) == 1, 5000);
    printf("%d writes completed, %d cancelled before close\n", atomic_load(&done_ok), atomic_load(&cancelled_before_close));
    CHECK(atomic_load(&cancelled_before_close) > 0);
    CHECK_INT(atomic_load(&done_ok) + atomic_load(&done_cancelled), 18);
    ntls_socket_unref(s);
    ntls_options_unref(o);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
