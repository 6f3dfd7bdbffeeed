/* Slowloris: 1,000 peers open a connection each and trickle a ClientHello one byte at a
 * time (one byte per peer every 250 ms), while real clients (nodetls, on a loop of their
 * own) connect, echo and close one after another. The real clients must keep their latency
 * (median within 3x the unloaded median plus 20 ms, none over 1 s), and once the server's
 * handshakeTimeout (3 s here) has passed every stalled peer has been dropped with Node's
 * tlsClientError ERR_TLS_HANDSHAKE_TIMEOUT. Then connections are 0 and descriptors back. */
#include "client_util.h"
#include "fault_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#define STALLERS 1000
#define SAMPLES 40
#define HANDSHAKE_TIMEOUT_MS 3000

static int stallers[STALLERS];
static atomic_int trickling;
static atomic_int timeouts, other_errors;
static char other_code[96];

static void on_client_error(ntls_server *srv, const ntls_error *e, ntls_socket *s, void *d) {
    (void)srv, (void)s, (void)d;
    if (strcmp(ntls_error_code(e), "ERR_TLS_HANDSHAKE_TIMEOUT") == 0) atomic_fetch_add(&timeouts, 1);
    else {
        snprintf(other_code, sizeof other_code, "%s", ntls_error_code(e));
        atomic_fetch_add(&other_errors, 1);
    }
}

/* One byte of a ClientHello's record header, then of its body, per peer per round. */
static void *trickle(void *arg) {
    (void)arg;
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
    for (int round = 0; atomic_load(&trickling); round++) {
        for (int i = 0; i < STALLERS && atomic_load(&trickling); i++)
            if (stallers[i] >= 0) (void)!write(stallers[i], &hello[round % sizeof hello], 1);
        tu_sleep_ms(250);
    }
    return NULL;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median and maximum of SAMPLES sequential connect + echo + close round trips. */
static void latency(int port, ntls_loop *lp, double *median, double *max) {
    double t[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        double t0 = fu_now_ms();
        tu_client c;
        c.send_on_secure = "ping";
        c.hold = 0;
        tu_client_connect(&c, lp, port, NULL);
        tu_client_wait_closed(&c, 10000);
        CHECK_STR(c.received, "ping");
        tu_client_free(&c);
        t[i] = fu_now_ms() - t0;
    }
    qsort(t, SAMPLES, sizeof t[0], cmp);
    *median = t[SAMPLES / 2];
    *max = t[SAMPLES - 1];
}

int main(void) {
    tu_init(90);
    fu_raise_fd_limit(8192);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_int(so, NTLS_OPT_HANDSHAKE_TIMEOUT, HANDSHAKE_TIMEOUT_MS);
    tu_echo_start(&e, NULL, so);
    ntls_server_on_tls_client_error(e.srv, on_client_error);
    ntls_loop *clients;
    CHECK_INT(ntls_loop_new(&clients), 0);
    double base_median, base_max;
    latency(e.port, clients, &base_median, &base_max);
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    int base_fds = fu_count_fds();

    double t0 = fu_now_ms();
    for (int i = 0; i < STALLERS; i++) {
        stallers[i] = fu_raw_connect(e.port);
        CHECK(stallers[i] >= 0);
        fcntl(stallers[i], F_SETFL, O_NONBLOCK);
    }
    atomic_store(&trickling, 1);
    pthread_t th;
    pthread_create(&th, NULL, trickle, NULL);
    WAIT_FOR(ntls_server_connections(e.srv) >= STALLERS, 5000);
    double load_median, load_max;
    latency(e.port, clients, &load_median, &load_max);
    double served_within = fu_now_ms() - t0;
    printf("real clients: median %.1f ms, max %.1f ms alone; median %.1f ms, max %.1f ms beside %d stalled peers\n",
           base_median, base_max, load_median, load_max, STALLERS);
    CHECK(served_within < HANDSHAKE_TIMEOUT_MS); /* measured while every staller was still held */
    CHECK(load_median <= 3 * base_median + 20);
    CHECK(load_max < 1000);

    WAIT_FOR(atomic_load(&timeouts) == STALLERS, HANDSHAKE_TIMEOUT_MS + 10000);
    printf("%d stalled peers dropped with ERR_TLS_HANDSHAKE_TIMEOUT %.0f ms after they came\n", STALLERS,
           fu_now_ms() - t0);
    atomic_store(&trickling, 0);
    pthread_join(th, NULL);
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    for (int i = 0; i < STALLERS; i++) close(stallers[i]);
    CHECK_INT(atomic_load(&other_errors), 0);
    WAIT_FOR(fu_count_fds() == base_fds, 5000);
    double m, x;
    latency(e.port, clients, &m, &x);
    WAIT_FOR(ntls_loop_close(clients) == 0, 10000);
    ntls_loop_unref(clients);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    printf("ok: served again (median %.1f ms), connections 0, descriptors back to %d\n", m, base_fds);
    return 0;
}
