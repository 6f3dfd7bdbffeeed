/*
 * A program that uses an installed nodetls the way a C user's program does: a TLS echo server
 * for one connection. scripts/test-install.sh builds it against nodetls found by
 * find_package, pkg-config, add_subdirectory and FetchContent, shared and static.
 *
 *   consumer KEY.pem CERT.pem
 *
 * Prints "port N", echoes what the client sends until a newline has gone back, ends the
 * connection, and exits 0 once it has closed (1 on any failure, within 15 s).
 */
#include <nodetls.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int port, done, failed;

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    (void)data;
    if (ntls_socket_write(s, buf, len, NULL, NULL) < 0) atomic_store(&failed, 1);
    if (memchr(buf, '\n', len)) ntls_socket_end(s);
}

static void on_close(ntls_socket *s, int had_error, void *data) {
    (void)data;
    if (had_error) atomic_store(&failed, 1);
    atomic_store(&done, 1);
    ntls_socket_unref(s);
}

static void on_secure(ntls_server *srv, ntls_socket *s, void *data) {
    (void)srv, (void)data;
    ntls_socket_ref(s); /* kept until its close event */
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_data(s, on_data);
}

static void on_listen(ntls_server *srv, int status, void *data) {
    (void)data;
    int p = 0;
    if (status == 0) ntls_server_address(srv, NULL, 0, &p, NULL);
    atomic_store(&port, status == 0 ? p : -1);
}

static void add_file(ntls_options *o, int key, const char *path) {
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "consumer: cannot open %s\n", path);
        exit(1);
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (ntls_options_add_bytes(o, key, (const uint8_t *)buf, n) != 0) {
        fprintf(stderr, "consumer: %s\n", ntls_options_last_error(o));
        exit(1);
    }
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: consumer KEY.pem CERT.pem\n");
        return 2;
    }
    ntls_options *o;
    ntls_options_new(&o);
    add_file(o, NTLS_OPT_KEY, argv[1]);
    add_file(o, NTLS_OPT_CERT, argv[2]);
    ntls_server *srv;
    if (ntls_server_new(NULL, o, &srv) != 0) {
        fprintf(stderr, "consumer: %s\n", ntls_options_last_error(o));
        return 1;
    }
    ntls_server_on_secure_connection(srv, on_secure);
    ntls_server_listen(srv, "127.0.0.1", 0, on_listen);
    for (int i = 0; i < 5000 && atomic_load(&port) == 0; i++) sleep_ms(1);
    if (atomic_load(&port) <= 0) {
        fprintf(stderr, "consumer: not listening\n");
        return 1;
    }
    printf("port %d\n", atomic_load(&port));
    fflush(stdout);
    for (int i = 0; i < 15000 && !atomic_load(&done); i++) sleep_ms(1);
    ntls_server_close(srv, NULL);
    ntls_server_unref(srv);
    ntls_options_unref(o);
    if (!atomic_load(&done)) fprintf(stderr, "consumer: no connection closed within 15 s\n");
    printf("nodetls %s: %s\n", ntls_version(), atomic_load(&done) && !atomic_load(&failed) ? "ok" : "failed");
    return atomic_load(&done) && !atomic_load(&failed) ? 0 : 1;
}
