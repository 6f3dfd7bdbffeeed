/* Large transfers with bounded memory, byte-exact, against Node's tls: our client sends
 * SINK_MIB one way to a Node server that checks every 1 MiB unit, then echoes ECHO_MIB
 * through a Node echo server (pipe: it honours backpressure), writing only while
 * ntls_socket_write says 1 and pausing its own reads now and then so that Node's side backs
 * up too. The peak RSS (VmHWM) once the transfer runs must stay within a small bound of what
 * it was after the first MiB: the highWaterMark plus a few records, not the data size.
 * usage: test_large_transfer [SINK_MIB ECHO_MIB]   (defaults 1024 and 256) */
#include "test_util.h"

#include <pthread.h>
#include <time.h>
#include <unistd.h>

#define UNIT (1u << 20)
#define CHUNK (64u * 1024)
/* Growth of the peak RSS allowed once warm: far below any buffered fraction of the data. */
#define RSS_SLACK_KB 1024

static uint8_t block[UNIT];

static void make_block(void) {
    uint32_t x = 0x9e3779b9u;
    for (size_t i = 0; i < UNIT; i += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        memcpy(block + i, &x, 4); /* little endian, as Node's writeUInt32LE */
    }
}

static long vm_hwm_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb;
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct {
    ntls_socket *s;
    int echo;
    uint64_t total, sent, received, bad;
    uint8_t cur[UNIT];
    uint64_t cur_unit;
    long hwm_warm;
    atomic_int paused, closed, had_error, ended_sent;
    long drains, pauses;
    char reply[256];
    size_t reply_len;
} transfer;

/* The expected byte stream at `pos`, `len` bytes (within one unit), compared with `buf`. */
static int matches(uint64_t pos, const uint8_t *buf, size_t len) {
    uint64_t unit = pos / UNIT;
    size_t off = (size_t)(pos % UNIT);
    while (len > 0 && off < 8) {
        if (*buf != (uint8_t)(unit >> (8 * off))) return 0;
        buf++, off++, len--;
    }
    return memcmp(buf, block + off, len) == 0;
}

static void pump(transfer *t) {
    while (t->sent < t->total) {
        size_t off = (size_t)(t->sent % UNIT);
        if (off == 0) {
            t->cur_unit = t->sent / UNIT;
            memcpy(t->cur, &t->cur_unit, 8);
        }
        size_t n = CHUNK;
        if (n > UNIT - off) n = UNIT - off;
        if (n > t->total - t->sent) n = (size_t)(t->total - t->sent);
        int r = ntls_socket_write(t->s, t->cur + off, n, NULL, NULL);
        CHECK(r >= 0);
        t->sent += n;
        if (t->hwm_warm == 0 && t->sent >= 4 * (uint64_t)UNIT) t->hwm_warm = vm_hwm_kb();
        if (r == 0) return; /* wait for drain */
    }
    if (!t->echo && !atomic_exchange(&t->ended_sent, 1)) ntls_socket_end(t->s);
}

static void on_secure(ntls_socket *s, void *d) {
    (void)s;
    pump(d);
}

static void on_drain(ntls_socket *s, void *d) {
    (void)s;
    ((transfer *)d)->drains++;
    pump(d);
}

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    transfer *t = d;
    if (!t->echo) {
        size_t room = sizeof t->reply - 1 - t->reply_len;
        size_t n = len < room ? len : room;
        memcpy(t->reply + t->reply_len, buf, n);
        t->reply_len += n;
        return;
    }
    while (len > 0) {
        size_t off = (size_t)(t->received % UNIT), n = UNIT - off;
        if (n > len) n = len;
        if (!matches(t->received, buf, n)) t->bad++;
        t->received += n, buf += n, len -= n;
        /* Every 16 MiB, stop reading for a moment: Node's writes back up, then its reads. */
        if (t->received % (16 * (uint64_t)UNIT) < n) {
            ntls_socket_pause(s);
            atomic_store(&t->paused, 1);
            t->pauses++;
        }
    }
    if (t->received == t->total && !atomic_exchange(&t->ended_sent, 1)) ntls_socket_end(s);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    transfer *t = d;
    atomic_store(&t->had_error, had_error);
    atomic_store(&t->closed, 1);
}

static void on_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)d;
    fprintf(stderr, "error: %s %s\n", ntls_error_code(e), ntls_error_message(e));
}

static void *resumer(void *arg) {
    transfer *t = arg;
    while (!atomic_load(&t->closed)) {
        if (atomic_load(&t->paused)) {
            tu_sleep_ms(10);
            atomic_store(&t->paused, 0);
            ntls_socket_resume(t->s);
        }
        tu_sleep_ms(1);
    }
    return NULL;
}

static void run(const char *mode, uint64_t mib) {
    char script[512], line[256], v[32];
    snprintf(script, sizeof script, "%s/bulk_peer.js", tu_peers_dir());
    char *argv[] = {"node", script, (char *)mode, (char *)NODETLS_CERTS, NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, sizeof line, 20000));
    CHECK(tu_json(line, "port", v, sizeof v));
    static transfer t;
    memset(&t, 0, sizeof t);
    memcpy(t.cur, block, UNIT);
    t.echo = strcmp(mode, "echo") == 0;
    t.total = mib * UNIT;
    ntls_options *o;
    ntls_options_new(&o);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, atoi(v));
    CHECK_INT(ntls_socket_new(NULL, &t.s), 0);
    ntls_socket_set_data(t.s, &t);
    ntls_socket_on_secure_connect(t.s, on_secure);
    ntls_socket_on_drain(t.s, on_drain);
    ntls_socket_on_data(t.s, on_data);
    ntls_socket_on_close(t.s, on_close);
    ntls_socket_on_error(t.s, on_error);
    pthread_t th;
    pthread_create(&th, NULL, resumer, &t);
    double t0 = now_s();
    CHECK_INT(ntls_socket_connect(t.s, o), 0);
    WAIT_FOR(atomic_load(&t.closed) == 1, 240000);
    double secs = now_s() - t0;
    pthread_join(th, NULL);
    long hwm_end = vm_hwm_kb();
    CHECK_INT(atomic_load(&t.had_error), 0);
    CHECK(t.sent == t.total);
    double mb = (double)t.total / (1 << 20);
    if (t.echo) {
        CHECK(t.received == t.total);
        CHECK_INT(t.bad, 0);
        printf("echo %llu MiB through Node's tls, byte-exact: %.1f s, %.0f MiB/s each way", (unsigned long long)mib, secs,
               mb / secs);
    } else {
        t.reply[t.reply_len] = 0;
        char units[32], bad[32], extra[32];
        CHECK(tu_json(t.reply, "units", units, sizeof units) && tu_json(t.reply, "bad", bad, sizeof bad) &&
              tu_json(t.reply, "extra", extra, sizeof extra));
        CHECK_INT(atoll(units), (long long)mib);
        CHECK_INT(atoll(bad), 0);
        CHECK_INT(atoll(extra), 0);
        printf("one-way %llu MiB to Node's tls, every unit checked by Node: %.1f s, %.0f MiB/s", (unsigned long long)mib,
               secs, mb / secs);
    }
    printf("; %ld drains, %ld pauses; VmHWM %ld kB when warm, %ld kB at the end (+%ld kB)\n", t.drains, t.pauses,
           t.hwm_warm, hwm_end, hwm_end - t.hwm_warm);
    CHECK(t.drains > 0); /* the writer did wait for drain */
    if (t.echo) CHECK(t.pauses > 0);
    CHECK(t.hwm_warm > 0);
    CHECK(hwm_end - t.hwm_warm < RSS_SLACK_KB);
    ntls_socket_unref(t.s);
    ntls_options_unref(o);
    close(c.in_fd);
    CHECK_INT(tu_wait_child(&c, 10000), 0);
}

int main(int argc, char **argv) {
    uint64_t sink = argc > 2 ? strtoull(argv[1], NULL, 10) : 1024, echo = argc > 2 ? strtoull(argv[2], NULL, 10) : 256;
    tu_init(300);
    make_block();
    run("sink", sink);
    run("echo", echo);
    return 0;
}
