/* Attacks the claim "strings coming out are static or live as long as their handle"
 * (DESIGN.md rule 6) for the error words: ntls_socket_last_error(s) and
 * ntls_options_last_error(o) must return pointers that stay readable, NUL-terminated and
 * unchanged until the handle's last reference is dropped, even while later calls on the same
 * handle fail with other words. Thread A reads the pointers (strlen, copy) and keeps older
 * ones, re-reading them; thread B meanwhile makes failing calls with differing words.
 * Also run under valgrind (memcheck_error_words), which reports any read of freed words. */
#include "client_util.h"

#include <pthread.h>

#define ITERATIONS 20000
#define KEPT 32

static ntls_socket *ended;  /* unstarted, ended: write/end/connect fail */
static ntls_socket *live;   /* connected to the echo server: connect/wrap fail */
static ntls_options *opts;  /* set_* with bad keys and types, key() with typos */
static ntls_options *bad[5]; /* connect options that fail, each with its own words */
static ntls_server *srv;     /* listening: listen/addContext/ticket keys fail */
static atomic_int b_done;
static atomic_long mismatches, unterminated;

typedef struct {
    const char *p;
    char text[160];
} kept;

/* Reads a returned pointer like a careful program would: bounded strlen, then a copy. */
static size_t read_words(const char *p, char *out, size_t cap) {
    if (!p) {
        out[0] = 0;
        return 0;
    }
    size_t n = 0;
    while (n < 4096 && p[n]) n++;
    if (n == 4096) atomic_fetch_add(&unterminated, 1);
    size_t c = n < cap - 1 ? n : cap - 1;
    memcpy(out, p, c);
    out[c] = 0;
    return n;
}

static void recheck(kept *k, int count, const char *who) {
    char now[160];
    for (int i = 0; i < count; i++) {
        read_words(k[i].p, now, sizeof now);
        if (strcmp(now, k[i].text) != 0) {
            if (atomic_fetch_add(&mismatches, 1) < 5)
                fprintf(stderr, "%s: words at %p changed from \"%s\" to \"%.60s\"\n", who, (void *)k[i].p,
                        k[i].text, now);
        }
    }
}

static void *reader(void *arg) {
    (void)arg;
    static kept ks[KEPT], ko[KEPT], kv[KEPT];
    int ns = 0, no = 0, nv = 0, at_s = 0, at_o = 0, at_v = 0;
    long reads = 0;
    char buf[160];
    for (int i = 0; i < ITERATIONS || !atomic_load(&b_done); i++) {
        const char *p = ntls_socket_last_error(i % 2 ? ended : live);
        read_words(p, buf, sizeof buf);
        ks[at_s].p = p;
        memcpy(ks[at_s].text, buf, sizeof buf);
        at_s = (at_s + 1) % KEPT;
        if (ns < KEPT) ns++;
        const char *q = ntls_options_last_error(i % 3 ? opts : bad[i % 5]);
        read_words(q, buf, sizeof buf);
        ko[at_o].p = q;
        memcpy(ko[at_o].text, buf, sizeof buf);
        at_o = (at_o + 1) % KEPT;
        if (no < KEPT) no++;
        const char *r = ntls_server_last_error(srv);
        read_words(r, buf, sizeof buf);
        kv[at_v].p = r;
        memcpy(kv[at_v].text, buf, sizeof buf);
        at_v = (at_v + 1) % KEPT;
        if (nv < KEPT) nv++;
        if (i % 4 == 0) {
            recheck(ks, ns, "ntls_socket_last_error");
            recheck(ko, no, "ntls_options_last_error");
            recheck(kv, nv, "ntls_server_last_error");
        }
        reads += 3;
        if (i > 50 * ITERATIONS) break; /* the writer is stuck: the alarm reports it */
    }
    recheck(ks, ns, "ntls_socket_last_error");
    recheck(ko, no, "ntls_options_last_error");
    recheck(kv, nv, "ntls_server_last_error");
    printf("reader: %ld reads\n", reads);
    return NULL;
}

static char first_keys[48];
static void *failer(void *arg) {
    (void)arg;
    static const char *typos[] = {"rejectUnauthorised", "ALPNprotocols", "servrname", "handshakeTimout",
                                  "minVersoin", "sessionTimeOut", "ecdhCurves", "honourCipherOrder"};
    for (int i = 0; i < ITERATIONS; i++) {
        switch (i % 8) {
        case 0: CHECK_INT(ntls_socket_write(ended, "x", 1, NULL, NULL), NTLS_EWRITE_AFTER_END); break; /* never started */
        case 1: CHECK_INT(ntls_socket_end(ended), NTLS_EALREADY); break;
        case 2: CHECK(ntls_socket_connect(ended, bad[(i / 8) % 5]) < 0); break;
        case 3: CHECK(ntls_socket_connect(live, bad[(i / 8) % 5]) < 0); break;
        case 4: CHECK_INT(ntls_socket_renegotiate(live), NTLS_ENOTSUP); break;
        case 5: CHECK_INT(ntls_options_set_int(opts, 9000 + (i / 8) % 7, 1), NTLS_EINVAL); break;
        case 6: CHECK_INT(ntls_options_key(opts, typos[(i / 8) % 8]), NTLS_EINVAL); break;
        case 7:
            if ((i / 8) % 2) CHECK_INT(ntls_options_set_string(opts, 8800 + (i / 8) % 5, "x"), NTLS_EINVAL);
            else CHECK_INT(ntls_options_set_bool(opts, NTLS_OPT_HOST, 1), NTLS_EINVAL);
            break;
        }
        switch (i % 4) {
        case 0: CHECK_INT(ntls_server_listen(srv, "127.0.0.1", 0, NULL), NTLS_EALREADY); break;
        case 1: CHECK_INT(ntls_server_set_ticket_keys(srv, (const uint8_t *)"short", 5), NTLS_EINVAL); break;
        case 2: CHECK_INT(ntls_server_listen(srv, "127.0.0.1", 70000 + i % 9, NULL), NTLS_EINVAL); break;
        case 3: CHECK_INT(ntls_server_get_ticket_keys(srv, (uint8_t *)first_keys, 8), NTLS_EINVAL); break;
        }
    }
    atomic_store(&b_done, 1);
    return NULL;
}

static atomic_int live_secure, closes;
static void on_secure(ntls_socket *s, void *d) {
    (void)s, (void)d;
    atomic_store(&live_secure, 1);
}
static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_fetch_add(&closes, 1);
}

int main(void) {
    tu_init(110);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    srv = e.srv;
    CHECK_STR(ntls_server_last_error(srv), "");
    CHECK_STR(ntls_server_last_error(NULL), "server is NULL");

    CHECK_INT(ntls_options_new(&opts), 0);
    for (int k = 0; k < 5; k++) {
        CHECK_INT(ntls_options_new(&bad[k]), 0);
        tu_add_pem(bad[k], NTLS_OPT_CA, "ca-cert.pem");
    }
    /* bad[0]: no port; the others: each another wrong value, so other words. */
    CHECK_INT(ntls_options_set_int(bad[1], NTLS_OPT_PORT, 70000), 0);
    CHECK_INT(ntls_options_set_int(bad[2], NTLS_OPT_PORT, -5), 0);
    CHECK_INT(ntls_options_set_int(bad[3], NTLS_OPT_PORT, 443), 0);
    CHECK_INT(ntls_options_set_string(bad[3], NTLS_OPT_SERVERNAME, "not a name!"), 0);
    CHECK_INT(ntls_options_set_int(bad[4], NTLS_OPT_PORT, 443), 0);
    CHECK_INT(ntls_options_set_string(bad[4], NTLS_OPT_MIN_VERSION, "TLSv1.3"), 0);
    CHECK_INT(ntls_options_set_string(bad[4], NTLS_OPT_MAX_VERSION, "TLSv1.2"), 0);

    CHECK_INT(ntls_socket_new(NULL, &ended), 0);
    CHECK_INT(ntls_socket_end(ended), 0);
    CHECK_INT(ntls_socket_new(NULL, &live), 0);
    ntls_socket_on_secure_connect(live, on_secure);
    ntls_socket_on_close(live, on_close);
    ntls_options *lo;
    CHECK_INT(ntls_options_new(&lo), 0);
    tu_add_pem(lo, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(lo, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(lo, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(lo, NTLS_OPT_PORT, e.port);
    CHECK_INT(ntls_socket_connect(live, lo), 0);
    WAIT_FOR(atomic_load(&live_secure) == 1, 10000);

    /* The words each failing call leaves, once, before the race. */
    CHECK_INT(ntls_socket_write(ended, "x", 1, NULL, NULL), NTLS_EWRITE_AFTER_END);
    printf("write after end: \"%s\"\n", ntls_socket_last_error(ended));
    const char *first = ntls_socket_last_error(ended);
    char first_text[160];
    snprintf(first_text, sizeof first_text, "%s", first);
    CHECK_INT(ntls_socket_connect(ended, bad[1]), NTLS_EINVAL);
    printf("bad port: \"%s\"\n", ntls_socket_last_error(ended));
    /* The simplest form of the bug: the first pointer, read again after one more failure. */
    char again[160];
    read_words(first, again, sizeof again);
    if (strcmp(again, first_text) != 0) {
        fprintf(stderr, "ntls_socket_last_error: earlier pointer now reads \"%.60s\", was \"%s\"\n", again,
                first_text);
        atomic_fetch_add(&mismatches, 1);
    }
    const char *ofirst = ntls_options_last_error(opts);
    CHECK_INT(ntls_options_key(opts, "rejectUnauthorised"), NTLS_EINVAL);
    ofirst = ntls_options_last_error(opts);
    snprintf(first_text, sizeof first_text, "%s", ofirst);
    CHECK_STR(first_text, "unknown option 'rejectUnauthorised'");
    CHECK_INT(ntls_options_set_int(opts, 9999, 1), NTLS_EINVAL);
    printf("unknown key: \"%s\"\n", ntls_options_last_error(opts));
    read_words(ofirst, again, sizeof again);
    if (strcmp(again, first_text) != 0) {
        fprintf(stderr, "ntls_options_last_error: earlier pointer now reads \"%.60s\", was \"%s\"\n", again,
                first_text);
        atomic_fetch_add(&mismatches, 1);
    }

    pthread_t a, b;
    CHECK_INT(pthread_create(&a, NULL, reader, NULL), 0);
    CHECK_INT(pthread_create(&b, NULL, failer, NULL), 0);
    pthread_join(b, NULL);
    pthread_join(a, NULL);
    printf("%d failing calls; words changed under a kept pointer: %ld; unterminated: %ld\n", ITERATIONS,
           atomic_load(&mismatches), atomic_load(&unterminated));
    CHECK_INT(atomic_load(&mismatches), 0);
    CHECK_INT(atomic_load(&unterminated), 0);

    CHECK_INT(ntls_socket_destroy(live), 0);
    CHECK_INT(ntls_socket_destroy(ended), 0);
    WAIT_FOR(atomic_load(&closes) == 1, 5000);
    ntls_socket_unref(live);
    ntls_socket_unref(ended);
    ntls_options_unref(lo);
    ntls_options_unref(opts);
    for (int k = 0; k < 5; k++) ntls_options_unref(bad[k]);
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    printf("error words stay put while their handle lives\n");
    return 0;
}
