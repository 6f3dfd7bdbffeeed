/* A peer that vanishes while we write: an error on that socket, never a SIGPIPE that
 * kills the program (this test keeps SIGPIPE's default action, as Go programs do). */
#include "client_util.h"

#include <signal.h>

static uint8_t big[1 << 20];
static atomic_int round_no;

/* Odd rounds vanish at once (the server then writes its close_notify into a closed
 * socket: EPIPE); even rounds first send a burst the server is echoing back. */
static void blast_and_vanish(ntls_socket *s, void *d) {
    (void)d;
    if (atomic_load(&round_no) % 2 == 0) ntls_socket_write(s, big, sizeof big, NULL, NULL);
    ntls_socket_destroy(s);
}

static atomic_int closed;
static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_fetch_add(&closed, 1);
}

int main(void) {
    tu_init(60);
    signal(SIGPIPE, SIG_DFL);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    for (int round = 0; round < 20; round++) {
        atomic_store(&round_no, round);
        ntls_options *o;
        ntls_options_new(&o);
        tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
        ntls_options_set_int(o, NTLS_OPT_PORT, e.port);
        ntls_socket *s;
        ntls_socket_new(NULL, &s);
        ntls_socket_on_secure_connect(s, blast_and_vanish);
        ntls_socket_on_close(s, on_close);
        CHECK_INT(ntls_socket_connect(s, o), 0);
        WAIT_FOR(atomic_load(&closed) == round + 1, 5000);
        ntls_socket_unref(s);
        ntls_options_unref(o);
    }
    WAIT_FOR(atomic_load(&e.closed_sockets) == 20, 10000);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    printf("20 vanishing peers, still alive\n");
    return 0;
}
