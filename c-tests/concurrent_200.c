/* 200 clients at once, each echoing 8 KiB; all verified, and the server's count returns to 0. */
#include "test_util.h"

#define CLIENTS 200
#define BYTES 8192

typedef struct {
    ntls_socket *s;
    uint8_t out[BYTES];
    size_t got;
    int ok;
} client;

static client clients[CLIENTS];
static atomic_int done, good;

static void on_secure(ntls_socket *s, void *d) {
    client *c = d;
    CHECK_INT(ntls_socket_authorized(s), 1);
    ntls_socket_write(s, c->out, BYTES, NULL, NULL);
}

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    client *c = d;
    CHECK(c->got + len <= BYTES);
    if (memcmp(c->out + c->got, buf, len) != 0) c->ok = 0;
    c->got += len;
    if (c->got == BYTES) ntls_socket_end(s);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    client *c = d;
    if (!had_error && c->ok && c->got == BYTES) atomic_fetch_add(&good, 1);
    atomic_fetch_add(&done, 1);
}

int main(void) {
    tu_init(60);
    ntls_loop *server_loop;
    CHECK_INT(ntls_loop_new(&server_loop), 0);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-rsa");
    tu_echo_start(&e, server_loop, so);
    ntls_options *o;
    ntls_options_new(&o);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_int(o, NTLS_OPT_PORT, e.port);
    for (int i = 0; i < CLIENTS; i++) {
        client *c = &clients[i];
        c->ok = 1;
        for (int j = 0; j < BYTES; j++) c->out[j] = (uint8_t)(i * 13 + j);
        CHECK_INT(ntls_socket_new(NULL, &c->s), 0);
        ntls_socket_set_data(c->s, c);
        ntls_socket_on_secure_connect(c->s, on_secure);
        ntls_socket_on_data(c->s, on_data);
        ntls_socket_on_close(c->s, on_close);
        CHECK_INT(ntls_socket_connect(c->s, o), 0);
    }
    WAIT_FOR(atomic_load(&done) == CLIENTS, 50000);
    CHECK_INT(atomic_load(&good), CLIENTS);
    CHECK_INT(atomic_load(&e.secure), CLIENTS);
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    WAIT_FOR(atomic_load(&e.closed_sockets) == CLIENTS, 5000);
    tu_echo_stop(&e);
    for (int i = 0; i < CLIENTS; i++) ntls_socket_unref(clients[i].s);
    CHECK_INT(ntls_loop_close(server_loop), 0);
    ntls_loop_unref(server_loop);
    ntls_options_unref(o);
    ntls_options_unref(so);
    printf("%d clients echoed\n", CLIENTS);
    return 0;
}
