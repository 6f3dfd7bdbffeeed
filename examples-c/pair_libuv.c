/*
 * nodetls-pair-libuv: a TLS echo server inside a libuv loop. libuv owns the sockets and the
 * thread; each connection is an ntls_pair fed from uv_read_start's callback, and its
 * ciphertext goes out with uv_write. nodetls runs no thread of its own here.
 *
 *   nodetls-pair-libuv KEY.pem CERT.pem PORT      (PORT 0: any; prints "listening on N")
 *
 * Backpressure both ways: at most OUT_LIMIT bytes of uv_write in flight per connection (the
 * rest waits inside the pair, whose write answers 0 past highWaterMark: the echo then pauses
 * the pair until drain); a read the pair cannot take yet stops reading (uv_read_stop) until
 * it can. Ends after the client's close_notify; SIGTERM/SIGINT stop the loop cleanly.
 */
#include "nodetls.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#define CHUNK 16384
#define OUT_LIMIT (64 * 1024)

typedef struct {
    uv_tcp_t tcp;
    ntls_pair *pair;
    char *in;          /* a read the pair has not taken all of yet (stops reading) */
    size_t in_off, in_len;
    size_t in_flight;  /* bytes handed to uv_write and not completed */
    int reading, paused, closed, fed_end, closing;
} conn;

typedef struct {
    uv_write_t req;
    conn *c;
    size_t len;
    char data[];
} out_chunk;

static ntls_options *server_options;
static uv_loop_t *loop;
static long served, open_conns;

static void service(conn *c);

static void on_data(ntls_pair *p, const uint8_t *buf, size_t len, void *data) {
    conn *c = data;
    if (ntls_pair_write(p, buf, len) == 0 && !c->paused) {
        c->paused = 1;
        ntls_pair_pause(p);
    }
}

static void on_drain(ntls_pair *p, void *data) {
    conn *c = data;
    if (c->paused) {
        c->paused = 0;
        ntls_pair_resume(p);
    }
}

static void on_error(ntls_pair *p, const ntls_error *err, void *data) {
    (void)p, (void)data;
    fprintf(stderr, "pair error: %s (%s)\n", ntls_error_code(err), ntls_error_message(err));
}

static void on_pair_close(ntls_pair *p, int had_error, void *data) {
    (void)p, (void)had_error;
    ((conn *)data)->closed = 1;
}

static void on_handle_closed(uv_handle_t *h) {
    conn *c = h->data;
    ntls_pair_unref(c->pair);
    free(c->in);
    free(c);
    open_conns--;
}

static void close_conn(conn *c) {
    if (c->closing) return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void on_written(uv_write_t *req, int status) {
    out_chunk *o = (out_chunk *)req;
    conn *c = o->c;
    c->in_flight -= o->len;
    free(o);
    if (status < 0) {
        close_conn(c);
        return;
    }
    if (!c->closing) service(c);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    (void)h, (void)suggested;
    buf->base = malloc(CHUNK);
    buf->len = buf->base ? CHUNK : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    conn *c = s->data;
    if (n > 0) {
        c->in = buf->base; /* service feeds it; what the pair cannot take yet stays here */
        c->in_off = 0;
        c->in_len = (size_t)n;
    } else {
        free(buf->base);
        if (n < 0 && !c->fed_end) {
            ntls_pair_feed_end(c->pair); /* UV_EOF, or the peer reset the connection */
            c->fed_end = 1;
        }
    }
    service(c);
}

/* Feeds what was read, dispatches, writes what the pair has (up to OUT_LIMIT in flight),
 * and reads again only once the pair took the last read. */
static void service(conn *c) {
    for (int round = 0; round < 64; round++) {
        int progress = 0;
        while (c->in && c->in_off < c->in_len) {
            int took = ntls_pair_feed(c->pair, c->in + c->in_off, c->in_len - c->in_off);
            if (took < 0) c->in_off = c->in_len; /* closed or failed: dispatch says why */
            if (took <= 0) break;
            c->in_off += (size_t)took;
            progress = 1;
        }
        if (c->in && c->in_off == c->in_len) {
            free(c->in);
            c->in = NULL;
        }
        if (ntls_pair_dispatch(c->pair) > 0) progress = 1;
        while (c->in_flight < OUT_LIMIT && ntls_pair_pending(c->pair) > 0) {
            out_chunk *o = malloc(sizeof *o + CHUNK);
            if (!o) break;
            int k = ntls_pair_pull(c->pair, o->data, CHUNK);
            if (k <= 0) {
                free(o);
                break;
            }
            o->c = c;
            o->len = (size_t)k;
            uv_buf_t b = uv_buf_init(o->data, (unsigned)k);
            if (uv_write(&o->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
                free(o);
                close_conn(c);
                return;
            }
            c->in_flight += (size_t)k;
            progress = 1;
        }
        if (!progress) break;
    }
    if (c->closed && c->in_flight == 0 && ntls_pair_pending(c->pair) == 0) {
        close_conn(c); /* everything the pair had for the peer was written */
        return;
    }
    int want_read = !c->in && !c->fed_end && !c->closed;
    if (want_read && !c->reading) uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    if (!want_read && c->reading) uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = want_read;
}

static void on_connection(uv_stream_t *server, int status) {
    if (status < 0) return;
    conn *c = calloc(1, sizeof *c);
    if (!c) return;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || ntls_pair_new(server_options, &c->pair) != 0) {
        uv_close((uv_handle_t *)&c->tcp, (uv_close_cb)free);
        return;
    }
    served++;
    open_conns++;
    ntls_pair_set_data(c->pair, c);
    ntls_pair_on_data(c->pair, on_data);
    ntls_pair_on_drain(c->pair, on_drain);
    ntls_pair_on_error(c->pair, on_error);
    ntls_pair_on_close(c->pair, on_pair_close);
    ntls_pair_start(c->pair);
    service(c);
}

static void on_signal(uv_signal_t *h, int sig) {
    (void)sig;
    uv_stop(h->loop);
}

static void close_any(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) {
        if (h->type == UV_TCP && h->data) {
            close_conn(h->data);
        } else {
            uv_close(h, NULL);
        }
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s KEY.pem CERT.pem PORT\n", argv[0]);
        return 2;
    }
    ntls_options_new(&server_options);
    if (ntls_options_add_file(server_options, NTLS_OPT_KEY, argv[1]) != 0 ||
        ntls_options_add_file(server_options, NTLS_OPT_CERT, argv[2]) != 0 ||
        ntls_options_set_bool(server_options, NTLS_OPT_IS_SERVER, 1) != 0 ||
        ntls_options_set_string(server_options, NTLS_OPT_ALPN_PROTOCOLS, "http/1.1") != 0) {
        fprintf(stderr, "%s\n", ntls_options_last_error(server_options));
        return 1;
    }
    /* libuv writes with write(2): a peer that vanished mid-echo would raise SIGPIPE (nodetls
     * itself never does, but here libuv owns the socket). */
    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    uv_tcp_t server;
    uv_tcp_init(loop, &server);
    server.data = NULL;
    struct sockaddr_in addr;
    uv_ip4_addr("127.0.0.1", atoi(argv[3]), &addr);
    int r = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&server, 128, on_connection);
    if (r != 0) {
        fprintf(stderr, "listen: %s\n", uv_strerror(r));
        return 1;
    }
    int len = sizeof addr;
    uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len);
    uv_signal_t sigterm, sigint;
    uv_signal_init(loop, &sigterm);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_init(loop, &sigint);
    uv_signal_start(&sigint, on_signal, SIGINT);
    printf("listening on %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_walk(loop, close_any, NULL); /* stopped by a signal: close every handle, then finish */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("served %ld connections, %ld open at exit, peak RSS %ld KiB\n", served, open_conns, ru.ru_maxrss);
    ntls_options_unref(server_options);
    return 0;
}
