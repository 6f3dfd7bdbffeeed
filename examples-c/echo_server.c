/*
 * nodetls-echo-server: a TLS echo server on nodetls, and the benchmark's server contract.
 *
 *   nodetls-echo-server --port P --key KEY.pem --cert CERT.pem [--sink | --source N]
 *       [--ca CA.pem --request-cert] [--alpn h2,http/1.1] [--loops N] [--host H]
 *       [--writer-thread] [--verbose]
 *
 * Echoes every byte (--sink: discards input; --source N: sends N bytes once secure,
 * then ends), closes after the client's close_notify once everything is flushed, and
 * stops cleanly on SIGTERM/SIGINT. --loops N serves the port from N loops (SO_REUSEPORT).
 * --writer-thread makes --source write from a thread of its own instead of the loop's.
 */
#define _GNU_SOURCE
#include "nodetls.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LOOPS 64
#define CHUNK 65536

static struct {
    const char *host, *key, *cert, *ca, *alpn;
    int port, loops, sink, request_cert, verbose, writer_thread;
    long long source;
} cfg = {"127.0.0.1", NULL, NULL, NULL, NULL, 0, 1, 0, 0, 0, 0, -1};

static atomic_int servers_closed;
static atomic_int open_sockets;
static uint8_t pattern[CHUNK + 256];

/* Per-connection state of --source: how much is left, and the drain hand-shake. */
typedef struct {
    ntls_socket *sock;
    long long left;
    long long offset;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int drained;
    int closed;
} source_state;

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "nodetls-echo-server: cannot open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

static void add_file(ntls_options *o, int key, const char *path) {
    size_t n;
    char *b = read_file(path, &n);
    if (ntls_options_add_bytes(o, key, (const uint8_t *)b, n) != 0) {
        fprintf(stderr, "nodetls-echo-server: %s\n", ntls_options_last_error(o));
        exit(2);
    }
    free(b);
}

/* Writes the next chunks of --source until the buffer is full; ends when all is sent. */
static void source_pump(source_state *st) {
    while (st->left > 0) {
        size_t n = st->left < CHUNK ? (size_t)st->left : CHUNK;
        int rc = ntls_socket_write(st->sock, pattern + (st->offset % 251), n, NULL, NULL);
        if (rc < 0) return;
        st->left -= (long long)n;
        st->offset += (long long)n;
        if (rc == 0) return; /* wait for drain */
    }
    ntls_socket_end(st->sock);
}

static void *source_thread(void *arg) {
    source_state *st = arg;
    pthread_mutex_lock(&st->mu);
    while (st->left > 0 && !st->closed) {
        size_t n = st->left < CHUNK ? (size_t)st->left : CHUNK;
        st->drained = 0;
        pthread_mutex_unlock(&st->mu);
        int rc = ntls_socket_write(st->sock, pattern + (st->offset % 251), n, NULL, NULL);
        pthread_mutex_lock(&st->mu);
        if (rc < 0) break;
        st->left -= (long long)n;
        st->offset += (long long)n;
        while (rc == 0 && !st->drained && !st->closed) pthread_cond_wait(&st->cv, &st->mu);
    }
    int closed = st->closed;
    pthread_mutex_unlock(&st->mu);
    if (!closed) ntls_socket_end(st->sock);
    return NULL;
}

static void on_drain(ntls_socket *s, void *data) {
    source_state *st = data;
    if (!st) {
        ntls_socket_resume(s); /* echo: reading was paused while the peer was slow */
        return;
    }
    if (cfg.writer_thread) {
        pthread_mutex_lock(&st->mu);
        st->drained = 1;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
    } else {
        source_pump(st);
    }
}

static void on_echo_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    (void)data;
    if (ntls_socket_write(s, buf, len, NULL, NULL) == 0) ntls_socket_pause(s);
}

static void on_sink_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    (void)s, (void)buf, (void)len, (void)data;
}

static void on_close(ntls_socket *s, int had_error, void *data) {
    (void)had_error;
    source_state *st = data;
    if (st) {
        pthread_mutex_lock(&st->mu);
        st->closed = 1;
        pthread_cond_signal(&st->cv);
        pthread_mutex_unlock(&st->mu);
        if (!cfg.writer_thread) free(st);
        /* with a writer thread, the thread (detached) still reads st: leak it by design */
    }
    atomic_fetch_sub(&open_sockets, 1);
    ntls_socket_unref(s);
}

static void on_error(ntls_socket *s, const ntls_error *err, void *data) {
    (void)s, (void)data;
    if (cfg.verbose) fprintf(stderr, "socket error: %s: %s\n", ntls_error_code(err), ntls_error_message(err));
}

static void on_secure(ntls_server *srv, ntls_socket *s, void *data) {
    (void)srv, (void)data;
    ntls_socket_ref(s); /* kept until its close event */
    atomic_fetch_add(&open_sockets, 1);
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_drain(s, on_drain);
    if (cfg.verbose) {
        const char *name = NULL;
        ntls_socket_get_cipher(s, &name, NULL, NULL);
        const char *alpn = ntls_socket_alpn_protocol(s);
        fprintf(stderr, "secure: %s %s alpn=%s authorized=%d\n", ntls_socket_get_protocol(s), name,
                alpn ? alpn : "-", ntls_socket_authorized(s));
    }
    if (cfg.source >= 0) {
        source_state *st = calloc(1, sizeof *st);
        st->sock = s;
        st->left = cfg.source;
        pthread_mutex_init(&st->mu, NULL);
        pthread_cond_init(&st->cv, NULL);
        ntls_socket_set_data(s, st);
        ntls_socket_on_data(s, on_sink_data);
        if (cfg.writer_thread) {
            pthread_t t;
            pthread_create(&t, NULL, source_thread, st);
            pthread_detach(t);
        } else {
            source_pump(st);
        }
        return;
    }
    ntls_socket_on_data(s, cfg.sink ? on_sink_data : on_echo_data);
}

static void on_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *data) {
    (void)srv, (void)s, (void)data;
    if (cfg.verbose) fprintf(stderr, "tlsClientError: %s: %s\n", ntls_error_code(err), ntls_error_message(err));
}

static atomic_int listen_status;
static void on_listen(ntls_server *srv, int status, void *data) {
    (void)srv, (void)data;
    atomic_store(&listen_status, status == 0 ? 1 : status);
}

static void on_server_close(ntls_server *srv, void *data) {
    (void)srv, (void)data;
    atomic_fetch_add(&servers_closed, 1);
}

static void usage(void) {
    fprintf(stderr,
            "usage: nodetls-echo-server --port P --key KEY.pem --cert CERT.pem [--sink | --source N]\n"
            "       [--ca CA.pem --request-cert] [--alpn h2,http/1.1] [--loops N] [--host H]\n"
            "       [--writer-thread] [--verbose]\n");
    exit(2);
}

static void parse(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--port") && v) cfg.port = atoi(argv[++i]);
        else if (!strcmp(a, "--key") && v) cfg.key = argv[++i];
        else if (!strcmp(a, "--cert") && v) cfg.cert = argv[++i];
        else if (!strcmp(a, "--ca") && v) cfg.ca = argv[++i];
        else if (!strcmp(a, "--alpn") && v) cfg.alpn = argv[++i];
        else if (!strcmp(a, "--host") && v) cfg.host = argv[++i];
        else if (!strcmp(a, "--loops") && v) cfg.loops = atoi(argv[++i]);
        else if (!strcmp(a, "--source") && v) cfg.source = atoll(argv[++i]);
        else if (!strcmp(a, "--sink")) cfg.sink = 1;
        else if (!strcmp(a, "--request-cert")) cfg.request_cert = 1;
        else if (!strcmp(a, "--writer-thread")) cfg.writer_thread = 1;
        else if (!strcmp(a, "--verbose")) cfg.verbose = 1;
        else usage();
    }
    if (!cfg.key || !cfg.cert || cfg.port < 0 || cfg.port > 65535 || cfg.loops < 1 || cfg.loops > MAX_LOOPS || (cfg.sink && cfg.source >= 0)) usage();
}

int main(int argc, char **argv) {
    parse(argc, argv);
    for (int i = 0; i < CHUNK + 256; i++) pattern[i] = (uint8_t)((i * 31 + 7) % 251);

    /* Signals go to sigwait below; loop threads inherit the blocked mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    ntls_options *o;
    ntls_options_new(&o);
    add_file(o, NTLS_OPT_KEY, cfg.key);
    add_file(o, NTLS_OPT_CERT, cfg.cert);
    if (cfg.ca) add_file(o, NTLS_OPT_CA, cfg.ca);
    if (cfg.request_cert) ntls_options_set_bool(o, NTLS_OPT_REQUEST_CERT, 1);
    if (cfg.alpn) ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, cfg.alpn);
    if (cfg.loops > 1) ntls_options_set_bool(o, NTLS_OPT_REUSE_PORT, 1);

    ntls_loop *loops[MAX_LOOPS];
    ntls_server *servers[MAX_LOOPS];
    int port = cfg.port;
    for (int i = 0; i < cfg.loops; i++) {
        if (ntls_loop_new(&loops[i]) != 0) return 1;
        if (ntls_server_new(loops[i], o, &servers[i]) != 0) {
            fprintf(stderr, "nodetls-echo-server: %s\n", ntls_options_last_error(o));
            return 2;
        }
        ntls_server_on_secure_connection(servers[i], on_secure);
        ntls_server_on_tls_client_error(servers[i], on_client_error);
        ntls_server_on_close(servers[i], on_server_close);
        atomic_store(&listen_status, 0);
        int rc = ntls_server_listen(servers[i], cfg.host, port, on_listen);
        if (rc != 0) {
            fprintf(stderr, "nodetls-echo-server: listen: %s\n", ntls_strerror(rc));
            return 1;
        }
        while (atomic_load(&listen_status) == 0) usleep(1000);
        if (atomic_load(&listen_status) != 1) {
            fprintf(stderr, "nodetls-echo-server: listen: %s\n", ntls_strerror(atomic_load(&listen_status)));
            return 1;
        }
        ntls_server_address(servers[i], NULL, 0, &port, NULL);
    }
    printf("listening on %s:%d\n", cfg.host, port);
    fflush(stdout);

    int sig;
    sigwait(&sigs, &sig);
    for (int i = 0; i < cfg.loops; i++) ntls_server_close(servers[i], NULL);
    /* Connections still open keep the servers from closing: give them a moment, then go. */
    for (int waited = 0; atomic_load(&servers_closed) < cfg.loops && waited < 2000; waited++) usleep(1000);
    if (atomic_load(&servers_closed) == cfg.loops) {
        for (int i = 0; i < cfg.loops; i++) {
            ntls_server_unref(servers[i]);
            ntls_loop_close(loops[i]);
            ntls_loop_unref(loops[i]);
        }
    }
    ntls_options_unref(o);
    return 0;
}
