/*
 * nodetls-client: connects, prints the handshake's facts, sends a message, prints the echo.
 *
 *   nodetls-client --host H --port P [--ca CA.pem] [--servername N] [--alpn a,b]
 *                  [--insecure] [--message TEXT]
 *
 * Exits 0 on success; on failure prints the error's Node code and message and exits 1.
 */
#define _GNU_SOURCE
#include "nodetls.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int finished;
static atomic_int failed;
static const char *message = "hello from nodetls";
static size_t received;

static void on_secure(ntls_socket *s, void *data) {
    (void)data;
    const char *name = NULL, *standard = NULL, *version = NULL;
    ntls_socket_get_cipher(s, &name, &standard, &version);
    const char *alpn = ntls_socket_alpn_protocol(s);
    const char *autherr = ntls_socket_authorization_error(s);
    printf("protocol:      %s\n", ntls_socket_get_protocol(s));
    printf("cipher:        %s (%s)\n", name, standard);
    printf("alpn:          %s\n", alpn ? alpn : "(none)");
    ntls_cert *cert = NULL;
    if (ntls_socket_get_peer_certificate(s, 0, &cert) == 0) {
        const char *san = ntls_cert_subjectaltname(cert);
        printf("peer subject:  %s\n", ntls_cert_subject(cert));
        printf("peer altnames: %s\n", san ? san : "(none)");
        printf("peer valid to: %s\n", ntls_cert_valid_to(cert));
        ntls_cert_unref(cert);
    }
    printf("authorized:    %s%s%s\n", ntls_socket_authorized(s) ? "yes" : "no", autherr ? " - " : "",
           autherr ? autherr : "");
    ntls_socket_write(s, message, strlen(message), NULL, NULL);
}

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    (void)data;
    if (received == 0) printf("echo:          ");
    fwrite(buf, 1, len, stdout);
    received += len;
    if (received >= strlen(message)) {
        printf("\n");
        ntls_socket_end(s);
    }
}

static void on_error(ntls_socket *s, const ntls_error *err, void *data) {
    (void)s, (void)data;
    fprintf(stderr, "error: %s: %s\n", ntls_error_code(err), ntls_error_message(err));
    atomic_store(&failed, 1);
}

static void on_close(ntls_socket *s, int had_error, void *data) {
    (void)s, (void)data;
    if (had_error) atomic_store(&failed, 1);
    atomic_store(&finished, 1);
}

static void add_file(ntls_options *o, int key, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(2);
    }
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    ntls_options_add_bytes(o, key, (const uint8_t *)buf, n);
}

int main(int argc, char **argv) {
    ntls_options *o;
    ntls_options_new(&o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(a, "--host") && v) rc = ntls_options_set_string(o, NTLS_OPT_HOST, argv[++i]);
        else if (!strcmp(a, "--port") && v) rc = ntls_options_set_int(o, NTLS_OPT_PORT, atoi(argv[++i]));
        else if (!strcmp(a, "--ca") && v) add_file(o, NTLS_OPT_CA, argv[++i]);
        else if (!strcmp(a, "--servername") && v) rc = ntls_options_set_string(o, NTLS_OPT_SERVERNAME, argv[++i]);
        else if (!strcmp(a, "--alpn") && v) rc = ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, argv[++i]);
        else if (!strcmp(a, "--insecure")) rc = ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 0);
        else if (!strcmp(a, "--message") && v) message = argv[++i];
        else {
            fprintf(stderr, "usage: nodetls-client --host H --port P [--ca CA.pem] [--servername N] "
                            "[--alpn a,b] [--insecure] [--message TEXT]\n");
            return 2;
        }
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", a, ntls_options_last_error(o));
            return 2;
        }
    }
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_data(s, on_data);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_close(s, on_close);
    int rc = ntls_socket_connect(s, o);
    if (rc != 0) {
        fprintf(stderr, "connect: %s (%s)\n", ntls_options_last_error(o), ntls_err_name(rc));
        return 1;
    }
    for (int waited = 0; !atomic_load(&finished) && waited < 30000; waited++) usleep(1000);
    int ok = atomic_load(&finished) && !atomic_load(&failed) && received >= strlen(message);
    if (!atomic_load(&finished)) fprintf(stderr, "error: ETIMEDOUT: no close within 30 s\n");
    else if (!atomic_load(&failed) && received < strlen(message))
        fprintf(stderr, "error: connection closed after %zu of %zu echoed bytes\n", received, strlen(message));
    ntls_socket_unref(s);
    ntls_options_unref(o);
    return ok ? 0 : 1;
}
