/* ntls_pair in memory: a client pair and a server pair joined by the test itself (no
 * sockets, no threads): the handshake and the getters, a 4 MiB echo with backpressure on
 * both sides (write answers 0, drain follows the pull), end and close in Node's order, the
 * events only from ntls_pair_dispatch, SNI (addContext and SNICallback), garbage ciphertext
 * (Node's codes, the alert for the peer, cleartext from before the garbage still delivered),
 * misuse (NULL, before start, after close), and reentrancy: write, end, destroy, unref and a
 * nested dispatch from inside every event. */
#include "test_util.h"
#include <unistd.h>

enum { EV_SECURE, EV_DATA, EV_END, EV_DRAIN, EV_ERROR, EV_CLOSE, EV_SNI, EV_COUNT };
enum { ACT_NONE, ACT_WRITE, ACT_END, ACT_DESTROY, ACT_UNREF, ACT_DISPATCH, ACT_COUNT };
static const char *EV_NAMES[] = {"secure", "data", "end", "drain", "error", "close", "sni"};
static const char *ACT_NAMES[] = {"none", "write", "end", "destroy", "unref", "dispatch"};

typedef struct {
    ntls_pair *p;
    int counts[EV_COUNT];
    int order[64]; /* the first events, in order */
    int n_order;
    int last, before_last; /* the last two events */
    int had_error;
    char error_code[96];
    unsigned char *got;
    size_t got_len, got_cap;
    int echo;         /* write back what arrives (the server side) */
    int in_callback;  /* set while a callback runs: dispatch must not nest */
    int act_event, act; /* the reentrancy matrix: do `act` inside `act_event` */
    int acted;
    int gone;         /* unref'd from inside an event: the test must not touch it again */
    int events_after_destroy;
    int destroyed;
    int write_zero;   /* write answered 0 at least once */
    ntls_context *sni_ctx;
    ntls_request *sni_req; /* kept to answer later, outside the callback */
    int sni_defer;
} side;

static void record(side *s, int ev) {
    CHECK(!s->in_callback); /* events never nest */
    if (s->destroyed && ev != EV_CLOSE) s->events_after_destroy++;
    s->counts[ev]++;
    if (s->n_order < 64) s->order[s->n_order++] = ev;
    s->before_last = s->last;
    s->last = ev;
}

static void act(side *s, int ev) {
    if (s->act_event != ev || s->acted) return;
    s->acted = 1;
    switch (s->act) {
    case ACT_WRITE: {
        int r = ntls_pair_write(s->p, "x", 1);
        CHECK(r == 0 || r == 1 || r == NTLS_ECLOSED || r == NTLS_EWRITE_AFTER_END);
        break;
    }
    case ACT_END: {
        int r = ntls_pair_end(s->p);
        CHECK(r == 0 || r == NTLS_EALREADY || r == NTLS_ECLOSED);
        break;
    }
    case ACT_DESTROY: {
        int r = ntls_pair_destroy(s->p);
        if (r == 0) s->destroyed = 1;
        CHECK(r == 0 || (ev == EV_CLOSE && r == NTLS_EALREADY));
        break;
    }
    case ACT_UNREF:
        ntls_pair_unref(s->p);
        s->gone = 1;
        break;
    case ACT_DISPATCH:
        CHECK_INT(ntls_pair_dispatch(s->p), 0); /* nested: nothing, the outer one carries on */
        break;
    }
}

static void on_secure(ntls_pair *p, void *data) {
    side *s = data;
    CHECK(s->p == p);
    record(s, EV_SECURE);
    s->in_callback = 1;
    act(s, EV_SECURE);
    s->in_callback = 0;
}

static void on_data(ntls_pair *p, const uint8_t *buf, size_t len, void *data) {
    side *s = data;
    record(s, EV_DATA);
    if (s->got_len + len > s->got_cap) {
        s->got_cap = (s->got_len + len) * 2;
        s->got = realloc(s->got, s->got_cap);
        CHECK(s->got);
    }
    memcpy(s->got + s->got_len, buf, len);
    s->got_len += len;
    if (s->echo && !s->destroyed && !s->gone) {
        int r = ntls_pair_write(p, buf, len);
        if (r == 0) s->write_zero = 1;
        CHECK(r == 0 || r == 1 || r == NTLS_ECLOSED || r == NTLS_EWRITE_AFTER_END);
    }
    s->in_callback = 1;
    act(s, EV_DATA);
    s->in_callback = 0;
}

static void on_end(ntls_pair *p, void *data) {
    (void)p;
    side *s = data;
    record(s, EV_END);
    s->in_callback = 1;
    act(s, EV_END);
    s->in_callback = 0;
}

static void on_drain(ntls_pair *p, void *data) {
    (void)p;
    side *s = data;
    record(s, EV_DRAIN);
    s->in_callback = 1;
    act(s, EV_DRAIN);
    s->in_callback = 0;
}

static void on_error(ntls_pair *p, const ntls_error *err, void *data) {
    (void)p;
    side *s = data;
    record(s, EV_ERROR);
    snprintf(s->error_code, sizeof s->error_code, "%s", ntls_error_code(err));
    s->in_callback = 1;
    act(s, EV_ERROR);
    s->in_callback = 0;
}

static void on_close(ntls_pair *p, int had_error, void *data) {
    (void)p;
    side *s = data;
    record(s, EV_CLOSE);
    s->had_error = had_error;
    s->in_callback = 1;
    act(s, EV_CLOSE);
    s->in_callback = 0;
}

static void on_sni(ntls_pair *p, const char *servername, ntls_request *req, void *data) {
    (void)p;
    side *s = data;
    record(s, EV_SNI);
    CHECK_STR(servername, "a.example.com");
    if (s->sni_defer) {
        s->sni_req = req; /* answered later, outside the event */
        return;
    }
    CHECK_INT(ntls_request_sni_done(req, s->sni_ctx), 0);
}

static void wire(side *s, ntls_pair *p) {
    s->p = p;
    CHECK_INT(ntls_pair_set_data(p, s), 0);
    CHECK_INT(ntls_pair_on_secure(p, on_secure), 0);
    CHECK_INT(ntls_pair_on_data(p, on_data), 0);
    CHECK_INT(ntls_pair_on_end(p, on_end), 0);
    CHECK_INT(ntls_pair_on_drain(p, on_drain), 0);
    CHECK_INT(ntls_pair_on_error(p, on_error), 0);
    CHECK_INT(ntls_pair_on_close(p, on_close), 0);
}

static ntls_pair *make_client(const char *servername, int hwm) {
    ntls_options *o;
    ntls_pair *p;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_SERVERNAME, servername), 0);
    CHECK_INT(ntls_options_add_bytes(o, NTLS_OPT_ALPN_PROTOCOLS, (const uint8_t *)"h2", 2), 0);
    CHECK_INT(ntls_options_add_bytes(o, NTLS_OPT_ALPN_PROTOCOLS, (const uint8_t *)"http/1.1", 8), 0);
    if (hwm) CHECK_INT(ntls_options_set_int(o, NTLS_OPT_HIGH_WATER_MARK, hwm), 0);
    CHECK_INT(ntls_pair_new(o, &p), 0);
    ntls_options_unref(o);
    return p;
}

static ntls_pair *make_server(int hwm) {
    ntls_options *o = tu_server_options("server-ec");
    ntls_pair *p;
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1), 0);
    CHECK_INT(ntls_options_add_bytes(o, NTLS_OPT_ALPN_PROTOCOLS, (const uint8_t *)"http/1.1", 8), 0);
    if (hwm) CHECK_INT(ntls_options_set_int(o, NTLS_OPT_HIGH_WATER_MARK, hwm), 0);
    CHECK_INT(ntls_pair_new(o, &p), 0);
    ntls_options_unref(o);
    return p;
}

/* Moves ciphertext from `a` to `b` (feeding in pieces, dispatching whenever b takes less
 * than offered, as a program must); returns the bytes moved. */
static size_t shuttle(side *a, side *b) {
    static unsigned char buf[7000]; /* not a record multiple: records arrive split */
    size_t moved = 0;
    if (a->gone) return 0;
    for (int rounds = 0; rounds < 10000; rounds++) {
        int n = ntls_pair_pull(a->p, buf, sizeof buf);
        CHECK(n >= 0);
        if (n == 0) break;
        moved += (size_t)n;
        if (b->gone) continue; /* b is gone: the bytes go nowhere, as to a closed transport */
        int off = 0, stuck = 0;
        while (off < n) {
            int r = ntls_pair_feed(b->p, buf + off, (size_t)(n - off));
            if (r < 0) { CHECK(r == NTLS_ECLOSED); break; } /* b closed or failed: drop */
            off += r;
            if (r == 0 && ++stuck > 1000) { fprintf(stderr, "feed stuck\n"); exit(1); }
            ntls_pair_dispatch(b->p);
            if (b->gone) break;
        }
        if (!b->gone) ntls_pair_dispatch(b->p);
    }
    return moved;
}

/* Runs both sides until neither has anything to move. */
static void run(side *c, side *s) {
    for (int i = 0; i < 100000; i++) {
        if (!c->gone) ntls_pair_dispatch(c->p);
        if (!s->gone) ntls_pair_dispatch(s->p);
        size_t m = shuttle(c, s) + shuttle(s, c);
        if (m == 0) return;
    }
    fprintf(stderr, "run did not settle\n");
    exit(1);
}

static void echo_and_getters(void) {
    side c = {0}, s = {0};
    ntls_pair *cp = make_client("localhost", 0), *sp = make_server(0);
    wire(&c, cp);
    wire(&s, sp);
    s.echo = 1;
    /* Nothing happens before the start; feeding an unstarted pair is refused with words. */
    CHECK_INT(ntls_pair_pending(cp), 0);
    CHECK_INT(ntls_pair_feed(sp, "x", 1), NTLS_ENOTCONN);
    CHECK(strstr(ntls_pair_last_error(sp), "ntls_pair_start") != NULL);
    CHECK_INT(ntls_pair_dispatch(cp), 0);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(cp), NTLS_EALREADY);
    CHECK_INT(ntls_pair_start(sp), 0);
    CHECK(ntls_pair_pending(cp) > 0); /* the ClientHello */
    /* Written before the handshake: queued, sent once secure. */
    CHECK_INT(ntls_pair_write(cp, "early ", 6), 1);
    CHECK(ntls_pair_get_protocol(cp) == NULL);
    run(&c, &s);
    CHECK_INT(c.counts[EV_SECURE], 1);
    CHECK_INT(s.counts[EV_SECURE], 1);
    CHECK_INT(c.order[0], EV_SECURE);
    /* The same getters as a socket, on both sides. */
    CHECK_STR(ntls_pair_get_protocol(cp), "TLSv1.3");
    CHECK_STR(ntls_pair_get_protocol(sp), "TLSv1.3");
    const char *name = NULL, *std_name = NULL, *version = NULL;
    CHECK_INT(ntls_pair_get_cipher(cp, &name, &std_name, &version), 0);
    CHECK(strncmp(std_name, "TLS_", 4) == 0);
    CHECK_STR(version, "TLSv1.3");
    CHECK_STR(ntls_pair_alpn_protocol(cp), "http/1.1");
    CHECK_STR(ntls_pair_alpn_protocol(sp), "http/1.1");
    CHECK_INT(ntls_pair_authorized(cp), 1);
    CHECK(ntls_pair_authorization_error(cp) == NULL);
    CHECK_INT(ntls_pair_authorized(sp), 0); /* no requestCert: nothing checked, as Node */
    CHECK_STR(ntls_pair_servername(sp), "localhost");
    CHECK_STR(ntls_pair_servername(cp), "localhost");
    CHECK_INT(ntls_pair_is_session_reused(cp), 0);
    const char *group = NULL;
    int bits = 0;
    CHECK_INT(ntls_pair_get_ephemeral_key_info(cp, &group, &bits), 0);
    CHECK(group != NULL && bits > 0);
    CHECK_INT(ntls_pair_get_ephemeral_key_info(sp, &group, &bits), NTLS_ENOENT);
    ntls_cert *cert;
    CHECK_INT(ntls_pair_get_peer_certificate(cp, 0, &cert), 0);
    CHECK(strstr(ntls_cert_subject(cert), "localhost") != NULL);
    ntls_cert_unref(cert);
    CHECK_INT(ntls_pair_get_peer_certificate(sp, 0, &cert), NTLS_ENOENT);
    CHECK(c.got_len == 6 && memcmp(c.got, "early ", 6) == 0);

    /* 4 MiB echoed, in writes the program makes while the output is not pulled: write
     * answers 0 past highWaterMark and drain follows once the program pulled it all. */
    size_t total = 4u << 20;
    unsigned char *msg = malloc(total);
    CHECK(msg);
    for (size_t i = 0; i < total; i++) msg[i] = (unsigned char)(i * 7 + (i >> 12));
    size_t sent = 0;
    int zeros = 0;
    while (sent < total) {
        size_t chunk = total - sent < 10000 ? total - sent : 10000;
        int r = ntls_pair_write(cp, msg + sent, chunk);
        CHECK(r == 0 || r == 1);
        sent += chunk;
        if (r == 0) {
            zeros++;
            CHECK(ntls_pair_pending(cp) >= 16384); /* the default highWaterMark */
            int drains = c.counts[EV_DRAIN];
            run(&c, &s);
            CHECK_INT(c.counts[EV_DRAIN], drains + 1);
        }
    }
    run(&c, &s);
    CHECK(zeros > 10);
    CHECK(s.write_zero); /* the server's echo met backpressure too */
    CHECK_INT(c.got_len, total + 6);
    CHECK(memcmp(c.got + 6, msg, total) == 0);
    CHECK_INT(ntls_pair_bytes_written(cp), total + 6);
    CHECK_INT(ntls_pair_bytes_read(sp), total + 6);
    free(msg);

    /* end: the server sees end, ends too (no allowHalfOpen), both close without error. */
    CHECK_INT(ntls_pair_end(cp), 0);
    CHECK_INT(ntls_pair_end(cp), NTLS_EALREADY);
    run(&c, &s);
    CHECK_INT(s.counts[EV_END], 1);
    CHECK_INT(c.counts[EV_END], 1);
    CHECK_INT(s.counts[EV_CLOSE], 1);
    CHECK_INT(c.counts[EV_CLOSE], 1);
    CHECK_INT(s.had_error, 0);
    CHECK_INT(c.had_error, 0);
    CHECK_INT(s.last, EV_CLOSE);
    CHECK_INT(s.before_last, EV_END);
    CHECK_INT(c.last, EV_CLOSE);
    CHECK_INT(c.counts[EV_ERROR] + s.counts[EV_ERROR], 0);
    /* After close: calls refused, getters Node answers null with are none, properties stay. */
    CHECK_INT(ntls_pair_write(cp, "x", 1), NTLS_EWRITE_AFTER_END);
    CHECK_INT(ntls_pair_feed(sp, "x", 1), NTLS_ECLOSED);
    CHECK_INT(ntls_pair_destroy(cp), NTLS_EALREADY);
    CHECK_INT(ntls_pair_on_data(cp, on_data), NTLS_ECLOSED);
    CHECK(ntls_pair_get_protocol(cp) == NULL);
    CHECK_INT(ntls_pair_get_cipher(cp, NULL, NULL, NULL), NTLS_ENOTCONN);
    CHECK_STR(ntls_pair_alpn_protocol(cp), "http/1.1");
    CHECK_INT(ntls_pair_authorized(cp), 1);
    CHECK_INT(ntls_pair_dispatch(cp), 0);
    ntls_pair_unref(cp);
    ntls_pair_unref(sp);
    free(c.got);
    free(s.got);
    printf("echo_and_getters: ok (4 MiB echoed, %d writes answered 0)\n", zeros);
}

/* Garbage from the transport: Node's codes, the alert for the peer, close(had_error). */
static void garbage(const char *bytes, size_t len, const char *code) {
    side s = {0};
    ntls_pair *sp = make_server(0);
    wire(&s, sp);
    CHECK_INT(ntls_pair_start(sp), 0);
    int r = ntls_pair_feed(sp, bytes, len);
    CHECK(r >= 0);
    CHECK_INT(s.counts[EV_ERROR], 0); /* never inside the feeding call */
    ntls_pair_dispatch(sp);
    CHECK_INT(s.counts[EV_ERROR], 1);
    CHECK_STR(s.error_code, code);
    CHECK_INT(s.counts[EV_CLOSE], 1);
    CHECK_INT(s.had_error, 1);
    CHECK_INT(s.order[0], EV_ERROR);
    unsigned char alert[64];
    int n = ntls_pair_pull(sp, alert, sizeof alert); /* pull still works after close */
    if (n > 0) CHECK_INT(alert[0], 0x15);             /* a TLS alert record */
    CHECK_INT(ntls_pair_feed(sp, bytes, len), NTLS_ECLOSED);
    CHECK_INT(ntls_pair_dispatch(sp), 0);
    ntls_pair_unref(sp);
    printf("garbage -> %s: ok (alert of %d bytes)\n", code, n);
}

/* A corrupted record after good data: the good data arrives first, then the error. */
static void corrupted_after_data(void) {
    side c = {0}, s = {0};
    ntls_pair *cp = make_client("localhost", 0), *sp = make_server(0);
    wire(&c, cp);
    wire(&s, sp);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(sp), 0);
    run(&c, &s);
    CHECK_INT(ntls_pair_write(cp, "intact", 6), 1);
    CHECK_INT(ntls_pair_write(cp, "broken", 6), 1);
    unsigned char buf[512];
    int n = ntls_pair_pull(cp, buf, sizeof buf);
    CHECK(n > 40);
    buf[n - 3] ^= 0x55; /* inside the second record's tag */
    CHECK_INT(ntls_pair_feed(sp, buf, (size_t)n), n);
    ntls_pair_dispatch(sp);
    CHECK(s.got_len == 6 && memcmp(s.got, "intact", 6) == 0);
    CHECK_STR(s.error_code, "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC");
    /* As a socket and Node: a TLS error after the handshake ends the stream, then a clean close. */
    CHECK_INT(s.last, EV_CLOSE);
    CHECK_INT(s.before_last, EV_END);
    CHECK_INT(s.had_error, 0);
    ntls_pair_unref(cp);
    ntls_pair_unref(sp);
    free(s.got);
    printf("corrupted record after data: ok\n");
}

/* The transport ends mid-handshake: Node's ECONNRESET (a client sees end first). */
static void eof_mid_handshake(void) {
    side c = {0};
    ntls_pair *cp = make_client("localhost", 0);
    wire(&c, cp);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_feed_end(cp), 0);
    CHECK_INT(ntls_pair_feed_end(cp), NTLS_EALREADY);
    ntls_pair_dispatch(cp);
    CHECK_INT(c.order[0], EV_END);
    CHECK_INT(c.order[1], EV_ERROR);
    CHECK_INT(c.order[2], EV_CLOSE);
    CHECK_STR(c.error_code, "ECONNRESET");
    ntls_pair_unref(cp);
    printf("eof mid-handshake: ok\n");
}

/* A client that rejects the server (wrong name): the client's code, the server gets the alert. */
static void wrong_name(void) {
    side c = {0}, s = {0};
    ntls_pair *cp = make_client("not-this-host.example", 0), *sp = make_server(0);
    wire(&c, cp);
    wire(&s, sp);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(sp), 0);
    run(&c, &s);
    CHECK_STR(c.error_code, "ERR_TLS_CERT_ALTNAME_INVALID");
    CHECK(strncmp(s.error_code, "ERR_SSL_", 8) == 0);
    CHECK_INT(c.had_error, 1);
    CHECK_INT(s.had_error, 1);
    ntls_pair_unref(cp);
    ntls_pair_unref(sp);
    printf("wrong name: ok (client %s, server %s)\n", c.error_code, s.error_code);
}

/* SNI on a server pair: addContext's patterns, and an SNICallback answered later. */
static void sni(int with_callback) {
    side c = {0}, s = {0};
    ntls_pair *cp = make_client("a.example.com", 0), *sp = make_server(0);
    wire(&c, cp);
    wire(&s, sp);
    ntls_options *o = tu_server_options("sni-a");
    ntls_context *ctx;
    CHECK_INT(ntls_context_new(o, &ctx), 0);
    ntls_options_unref(o);
    if (with_callback) {
        s.sni_ctx = ctx;
        s.sni_defer = 1;
        CHECK_INT(ntls_pair_on_sni(sp, on_sni), 0);
    } else {
        CHECK_INT(ntls_pair_add_context(sp, "*.example.com", ctx), 0);
    }
    CHECK_INT(ntls_pair_add_context(cp, "*.example.com", ctx), NTLS_EINVAL);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(sp), 0);
    CHECK_INT(ntls_pair_add_context(sp, "x.example.com", ctx), NTLS_EALREADY);
    run(&c, &s);
    if (with_callback) {
        CHECK_INT(s.counts[EV_SNI], 1);
        CHECK_INT(s.counts[EV_SECURE], 0); /* waits for the answer */
        CHECK_INT(ntls_request_sni_done(s.sni_req, ctx), 0);
        CHECK_INT(ntls_request_sni_done(s.sni_req, ctx), NTLS_EALREADY);
        run(&c, &s);
    }
    CHECK_INT(c.counts[EV_SECURE], 1);
    CHECK_INT(s.counts[EV_SECURE], 1);
    CHECK_STR(ntls_pair_servername(sp), "a.example.com");
    ntls_cert *cert;
    CHECK_INT(ntls_pair_get_peer_certificate(cp, 0, &cert), 0);
    CHECK(strstr(ntls_cert_subjectaltname(cert), "a.example.com") != NULL);
    ntls_cert_unref(cert);
    ntls_context_unref(ctx);
    ntls_pair_unref(cp);
    ntls_pair_unref(sp);
    printf("sni (%s): ok\n", with_callback ? "SNICallback" : "addContext");
}

/* Every pair function from inside every event: no crash, close exactly once (unless the
 * program dropped its last reference), nothing but close after destroy. */
static void reentrancy(int ev, int action) {
    side c = {0}, s = {0};
    int small = ev == EV_DRAIN ? 64 : 0;
    ntls_pair *cp = make_client("localhost", small), *sp = make_server(0);
    wire(&c, cp);
    wire(&s, sp);
    s.echo = 1;
    side *target = ev == EV_ERROR ? &s : &c;
    target->act_event = ev;
    target->act = action;
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(sp), 0);
    if (ev == EV_ERROR) {
        CHECK(ntls_pair_feed(sp, "\x16\x03\x01\x00\x05garbage!", 14) >= 0);
        ntls_pair_dispatch(sp);
    } else {
        run(&c, &s);
        if (!c.gone) {
            ntls_pair_write(cp, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", 74);
            run(&c, &s);
        }
        if (!c.gone && !c.destroyed) ntls_pair_end(cp);
        run(&c, &s);
    }
    CHECK(target->acted);
    CHECK_INT(target->events_after_destroy, 0);
    if (!target->gone) {
        CHECK_INT(target->counts[EV_CLOSE], 1);
        ntls_pair_unref(target->p);
    }
    side *other = target == &c ? &s : &c;
    if (ev != EV_ERROR) CHECK(other->counts[EV_CLOSE] <= 1);
    ntls_pair_unref(other->p);
    free(c.got);
    free(s.got);
}

/* requestCert on a server pair: a client certificate is verified (authorized, the peer's
 * certificate), and without one rejectUnauthorized refuses the handshake. */
static void client_certificate(int present) {
    side c = {0}, s = {0};
    ntls_options *o;
    ntls_pair *cp, *sp;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost"), 0);
    if (present) {
        tu_add_pem(o, NTLS_OPT_KEY, "client-key.pem");
        tu_add_pem(o, NTLS_OPT_CERT, "client-cert.pem");
    }
    CHECK_INT(ntls_pair_new(o, &cp), 0);
    ntls_options_unref(o);
    o = tu_server_options("server-ec");
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1), 0);
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_REQUEST_CERT, 1), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_pair_new(o, &sp), 0);
    ntls_options_unref(o);
    wire(&c, cp);
    wire(&s, sp);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(sp), 0);
    run(&c, &s);
    if (present) {
        CHECK_INT(s.counts[EV_SECURE], 1);
        CHECK_INT(ntls_pair_authorized(sp), 1);
        ntls_cert *cert;
        CHECK_INT(ntls_pair_get_peer_certificate(sp, 0, &cert), 0);
        ntls_cert_unref(cert);
    } else {
        CHECK_INT(s.counts[EV_SECURE], 0);
        CHECK_STR(s.error_code, "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE");
        CHECK_INT(s.had_error, 1);
    }
    ntls_pair_unref(cp);
    ntls_pair_unref(sp);
    printf("requestCert, client certificate %s: ok%s%s\n", present ? "sent" : "missing", present ? "" : " -> ",
           present ? "" : s.error_code);
}

/* Bounded cleartext: a pair that is not dispatched (or is paused) takes only what fits its
 * cleartext buffer, and takes the rest once its data is delivered. */
static void bounded_feed(int paused) {
    side c = {0}, s = {0};
    ntls_pair *cp = make_client("localhost", 0), *sp = make_server(0);
    wire(&c, cp);
    wire(&s, sp);
    CHECK_INT(ntls_pair_start(cp), 0);
    CHECK_INT(ntls_pair_start(sp), 0);
    run(&c, &s);
    size_t total = 1u << 20;
    unsigned char *msg = calloc(1, total);
    CHECK(msg);
    CHECK_INT(ntls_pair_write(cp, msg, total), 0); /* far over highWaterMark: answers 0 */
    size_t cipher_len = ntls_pair_pending(cp);
    unsigned char *cipher = malloc(cipher_len);
    CHECK(cipher);
    CHECK_INT(ntls_pair_pull(cp, cipher, cipher_len), cipher_len);
    if (paused) CHECK_INT(ntls_pair_pause(sp), 0);
    size_t off = 0;
    for (int i = 0; i < 100; i++) { /* feeding again without dispatch takes nothing more */
        int took = ntls_pair_feed(sp, cipher + off, cipher_len - off);
        CHECK(took >= 0);
        off += (size_t)took;
    }
    CHECK(off > 0 && off < 64 * 1024); /* about one 16 KiB buffer of cleartext, not 1 MiB */
    size_t held = off;
    ntls_pair_dispatch(sp);
    if (paused) {
        CHECK_INT(s.got_len, 0); /* paused: no data events, and still nothing more taken */
        CHECK_INT(ntls_pair_feed(sp, cipher + off, cipher_len - off), 0);
        CHECK_INT(ntls_pair_resume(sp), 0);
        ntls_pair_dispatch(sp);
    }
    CHECK(s.got_len > 0);
    while (off < cipher_len) {
        int took = ntls_pair_feed(sp, cipher + off, cipher_len - off);
        CHECK(took >= 0);
        off += (size_t)took;
        ntls_pair_dispatch(sp);
    }
    CHECK_INT(s.got_len, total);
    ntls_pair_unref(cp);
    ntls_pair_unref(sp);
    free(msg);
    free(cipher);
    free(s.got);
    printf("bounded feed%s: ok (%zu of %zu ciphertext bytes taken before dispatch)\n", paused ? " (paused)" : "",
           held, cipher_len);
}

/* Misuse: NULL everywhere, bad options, wrong order. */
static void misuse(void) {
    ntls_pair *p = NULL;
    CHECK_INT(ntls_pair_new(NULL, &p), NTLS_EINVAL);
    CHECK_INT(ntls_pair_start(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_pair_feed(NULL, "x", 1), NTLS_EINVAL);
    CHECK_INT(ntls_pair_pull(NULL, NULL, 0), NTLS_EINVAL);
    CHECK_INT(ntls_pair_write(NULL, "x", 1), NTLS_EINVAL);
    CHECK_INT(ntls_pair_dispatch(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_pair_pending(NULL), 0);
    CHECK_INT(ntls_pair_authorized(NULL), 0);
    CHECK(ntls_pair_get_protocol(NULL) == NULL);
    CHECK_INT(ntls_pair_get_cipher(NULL, NULL, NULL, NULL), NTLS_EINVAL);
    ntls_pair_unref(NULL);
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_MIN_VERSION, "TLSv1"), 0);
    CHECK_INT(ntls_pair_new(o, &p), NTLS_ENOTSUP); /* checked at creation, as a socket's */
    CHECK(strlen(ntls_options_last_error(o)) > 0);
    ntls_options_unref(o);
    p = make_client("localhost", 0);
    CHECK_INT(ntls_pair_pull(p, NULL, 5), NTLS_EINVAL);
    CHECK_INT(ntls_pair_feed(p, NULL, 5), NTLS_EINVAL);
    CHECK_INT(ntls_pair_feed_end(p), NTLS_ENOTCONN);
    CHECK_INT(ntls_pair_destroy(p), 0);
    CHECK_INT(ntls_pair_destroy(p), NTLS_EALREADY);
    CHECK_INT(ntls_pair_start(p), NTLS_ECLOSED);
    side c = {0};
    wire(&c, p);
    CHECK_INT(ntls_pair_dispatch(p), 1); /* close only */
    CHECK_INT(c.counts[EV_CLOSE], 1);
    CHECK_INT(c.had_error, 0);
    CHECK_INT(ntls_pair_ref(p), 0);
    CHECK_INT(ntls_pair_unref(p), 0);
    CHECK_INT(ntls_pair_unref(p), 0);
    /* Freed, never given out, or of another type: NTLS_EINVAL (NULL, 0), never a read. */
    static long long foreign[64];
    ntls_pair *bogus[2] = {p, (ntls_pair *)(void *)foreign};
    for (int i = 0; i < 2; i++) {
        CHECK_INT(ntls_pair_unref(bogus[i]), NTLS_EINVAL);
        CHECK_INT(ntls_pair_ref(bogus[i]), NTLS_EINVAL);
        CHECK_INT(ntls_pair_start(bogus[i]), NTLS_EINVAL);
        CHECK_INT(ntls_pair_feed(bogus[i], "x", 1), NTLS_EINVAL);
        CHECK_INT(ntls_pair_pull(bogus[i], foreign, 8), NTLS_EINVAL);
        CHECK_INT(ntls_pair_write(bogus[i], "x", 1), NTLS_EINVAL);
        CHECK_INT(ntls_pair_dispatch(bogus[i]), NTLS_EINVAL);
        CHECK_INT(ntls_pair_on_data(bogus[i], on_data), NTLS_EINVAL);
        CHECK_INT(ntls_pair_pending(bogus[i]), 0);
        CHECK_INT(ntls_pair_authorized(bogus[i]), 0);
        CHECK(ntls_pair_get_protocol(bogus[i]) == NULL);
        CHECK(ntls_pair_get_data(bogus[i]) == NULL);
    }
    ntls_options *other;
    CHECK_INT(ntls_options_new(&other), 0);
    CHECK_INT(ntls_pair_start((ntls_pair *)(void *)other), NTLS_EINVAL);
    CHECK_INT(ntls_pair_unref((ntls_pair *)(void *)other), NTLS_EINVAL);
    ntls_options_unref(other);
    printf("misuse: ok\n");
}

int main(void) {
    tu_init(60);
    misuse();
    echo_and_getters();
    garbage("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, "ERR_SSL_HTTP_REQUEST");
    garbage("\x16\x03\x01\x00\x05garbage!", 14, "ERR_SSL_EXCESSIVE_MESSAGE_SIZE"); /* as a socket says */
    garbage("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16, "ERR_SSL_WRONG_VERSION_NUMBER");
    corrupted_after_data();
    eof_mid_handshake();
    wrong_name();
    sni(0);
    sni(1);
    client_certificate(1);
    client_certificate(0);
    bounded_feed(0);
    bounded_feed(1);
    int cases = 0;
    for (int ev = EV_SECURE; ev <= EV_CLOSE; ev++)
        for (int a = ACT_WRITE; a < ACT_COUNT; a++) {
            reentrancy(ev, a);
            cases++;
        }
    printf("reentrancy: ok (%d cases: %s..%s from %s..%s)\n", cases, ACT_NAMES[1], ACT_NAMES[ACT_COUNT - 1],
           EV_NAMES[0], EV_NAMES[EV_CLOSE]);
    return 0;
}
