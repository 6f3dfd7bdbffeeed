/* 16 MiB through an echo server and back, with backpressure and a checksum both ways. */
#include "test_util.h"

#define TOTAL (16u * 1024u * 1024u)
#define CHUNK 65536u

static uint8_t chunk[CHUNK];
static size_t sent, received;
static uint64_t sent_sum = 1469598103934665603ull, recv_sum = 1469598103934665603ull;
static atomic_int closed, drains, zero_writes;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void pump(ntls_socket *s) {
    while (sent < TOTAL) {
        for (size_t i = 0; i < CHUNK; i++) chunk[i] = (uint8_t)((sent + i) * 7 + 3);
        sent_sum = fnv(sent_sum, chunk, CHUNK);
        sent += CHUNK;
        if (ntls_socket_write(s, chunk, CHUNK, NULL, NULL) == 0) {
            atomic_fetch_add(&zero_writes, 1);
            return;
        }
    }
}

static void on_drain(ntls_socket *s, void *d) {
    (void)d;
    atomic_fetch_add(&drains, 1);
    pump(s);
}

static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    pump(s);
}

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)d;
    recv_sum = fnv(recv_sum, buf, len);
    received += len;
    if (received == TOTAL) ntls_socket_end(s);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s, (void)d;
    CHECK_INT(had_error, 0);
    atomic_store(&closed, 1);
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
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_data(s, on_data);
    ntls_socket_on_drain(s, on_drain);
    ntls_socket_on_close(s, on_close);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&closed), 50000);
    CHECK_INT(received, TOTAL);
    CHECK(recv_sum == sent_sum);
    CHECK(atomic_load(&zero_writes) > 0);                 /* backpressure was exercised */
    CHECK_INT(atomic_load(&drains), atomic_load(&zero_writes));
    CHECK_INT(ntls_socket_bytes_written(s), TOTAL);        /* plaintext, as Node counts */
    CHECK_INT(ntls_socket_bytes_read(s), TOTAL);
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    tu_echo_stop(&e);
    ntls_socket_unref(s);
    ntls_options_unref(o);
    ntls_options_unref(so);
    printf("16 MiB echoed, checksums equal\n");
    return 0;
}
