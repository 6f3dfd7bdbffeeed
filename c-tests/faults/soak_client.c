/* The soak's clients: `fault_soak_client PORT SECONDS CONNECTIONS`.
 *
 * Keeps CONNECTIONS nodetls connections to 127.0.0.1:PORT open for SECONDS. Each sends a
 * message of random size (1 B to 256 KiB) drawn from its own pseudo-random stream, waits for
 * the echo and checks every byte against the same stream, then sends the next; one message in
 * 25 ends its connection and a new one takes its place (the close paths are soaked too). At
 * the end every connection finishes its message and ends. Prints progress every 10 s and a
 * summary; exits non-zero on any lost or corrupted byte, error, or connection that did not
 * close. The main thread makes and frees every handle; callbacks only move the state. */
#include "client_util.h"
#include "fault_util.h"

#include <pthread.h>

#define MAX_CONNS 4000
#define MAX_MESSAGE (256 * 1024)
#define CHURN 25

typedef struct {
    ntls_socket *s;
    atomic_int state; /* 0 free, 1 running, 2 closed (to collect) */
    uint64_t tx, rx;  /* generators of what we send and what the echo must be */
    uint64_t pick;
    size_t awaiting;
    int ended;
} conn;

static conn conns[MAX_CONNS];
static atomic_int stopping;
static atomic_llong sent_bytes, checked_bytes, corrupted, messages, errors, churned, opened;
static char first_error[128];
static ntls_options *opts;
static uint8_t scratch[MAX_MESSAGE]; /* only the loop thread writes messages */

static uint64_t next(uint64_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void send_message(conn *c) {
    size_t n = 1 + (size_t)(next(&c->pick) % MAX_MESSAGE);
    for (size_t i = 0; i < n; i++) scratch[i] = (uint8_t)(next(&c->tx) >> 24);
    c->awaiting = n;
    ntls_socket_write(c->s, scratch, n, NULL, NULL);
    atomic_fetch_add(&sent_bytes, (long long)n);
}

static void on_secure(ntls_socket *s, void *d) {
    (void)s;
    send_message(d);
}

static void on_data(ntls_socket *s, const uint8_t *b, size_t n, void *d) {
    conn *c = d;
    long long bad = 0;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (uint8_t)(next(&c->rx) >> 24)) bad++;
    if (bad) atomic_fetch_add(&corrupted, bad);
    atomic_fetch_add(&checked_bytes, (long long)n);
    if (n > c->awaiting) { /* more came back than was sent */
        atomic_fetch_add(&corrupted, (long long)(n - c->awaiting));
        c->awaiting = 0;
    } else c->awaiting -= n;
    if (c->awaiting > 0) return;
    atomic_fetch_add(&messages, 1);
    if (atomic_load(&stopping) || next(&c->pick) % CHURN == 0) {
        if (!atomic_load(&stopping)) atomic_fetch_add(&churned, 1);
        c->ended = 1;
        ntls_socket_end(s);
    } else send_message(c);
}

static void on_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)d;
    if (atomic_fetch_add(&errors, 1) == 0) snprintf(first_error, sizeof first_error, "%s", ntls_error_code(e));
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s, (void)had_error;
    conn *c = d;
    if (c->awaiting > 0 || !c->ended) atomic_fetch_add(&errors, 1); /* closed with an echo missing */
    atomic_store(&c->state, 2);
}

static void open_conn(ntls_loop *lp, conn *c, uint64_t seed) {
    memset(c, 0, sizeof *c);
    c->tx = c->rx = seed * 0x9E3779B97F4A7C15ull + 1;
    c->pick = seed ^ 0xD1B54A32D192ED03ull;
    CHECK_INT(ntls_socket_new(lp, &c->s), 0);
    ntls_socket_set_data(c->s, c);
    ntls_socket_on_secure_connect(c->s, on_secure);
    ntls_socket_on_data(c->s, on_data);
    ntls_socket_on_error(c->s, on_error);
    ntls_socket_on_close(c->s, on_close);
    atomic_store(&c->state, 1);
    atomic_fetch_add(&opened, 1);
    CHECK_INT(ntls_socket_connect(c->s, opts), 0);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fault_soak_client PORT SECONDS CONNECTIONS\n");
        return 2;
    }
    int port = atoi(argv[1]), seconds = atoi(argv[2]), n = atoi(argv[3]);
    CHECK(n > 0 && n <= MAX_CONNS);
    tu_init(seconds + 120);
    fu_raise_fd_limit(2 * n + 256);
    CHECK_INT(ntls_options_new(&opts), 0);
    tu_add_pem(opts, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(opts, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(opts, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(opts, NTLS_OPT_PORT, port);
    ntls_loop *lp;
    CHECK_INT(ntls_loop_new(&lp), 0);
    uint64_t seed = 1;
    for (int i = 0; i < n; i++) open_conn(lp, &conns[i], seed++);
    double t0 = fu_now_ms(), last = t0;
    while (fu_now_ms() - t0 < seconds * 1000.0) {
        tu_sleep_ms(50);
        for (int i = 0; i < n; i++)
            if (atomic_load(&conns[i].state) == 2) {
                ntls_socket_unref(conns[i].s);
                open_conn(lp, &conns[i], seed++);
            }
        if (fu_now_ms() - last >= 10000) {
            last = fu_now_ms();
            printf("t=%3.0fs messages=%lld MiB=%.0f corrupted=%lld errors=%lld connections=%lld\n",
                   (last - t0) / 1e3, atomic_load(&messages), (double)atomic_load(&checked_bytes) / 1048576.0,
                   atomic_load(&corrupted), atomic_load(&errors), atomic_load(&opened));
            fflush(stdout);
        }
    }
    atomic_store(&stopping, 1);
    /* Connections between messages (just reconnected, not yet secure) end after their first. */
    for (int waited = 0; waited < 60000; waited += 50) {
        int open = 0;
        for (int i = 0; i < n; i++) open += atomic_load(&conns[i].state) == 1;
        if (!open) break;
        tu_sleep_ms(50);
    }
    int unclosed = 0;
    for (int i = 0; i < n; i++) {
        if (atomic_load(&conns[i].state) == 1) unclosed++;
        ntls_socket_unref(conns[i].s);
    }
    long long lost = atomic_load(&sent_bytes) - atomic_load(&checked_bytes);
    printf("soak: %d s, %d concurrent, %lld connections, %lld messages, %.1f MiB echoed and checked; "
           "lost %lld, corrupted %lld, errors %lld%s%s, unclosed %d\n",
           seconds, n, atomic_load(&opened), atomic_load(&messages), (double)atomic_load(&checked_bytes) / 1048576.0,
           lost, atomic_load(&corrupted), atomic_load(&errors), first_error[0] ? " first " : "", first_error, unclosed);
    WAIT_FOR(ntls_loop_close(lp) == 0, 10000);
    ntls_loop_unref(lp);
    ntls_options_unref(opts);
    return lost == 0 && atomic_load(&corrupted) == 0 && atomic_load(&errors) == 0 && unclosed == 0 ? 0 : 1;
}
