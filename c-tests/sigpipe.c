/* Attacks the claim "the library never raises SIGPIPE (it sends with MSG_NOSIGNAL); a peer
 * that vanishes is an error event on its socket". This program keeps SIGPIPE's default action
 * (as Go programs and many C programs do), so any send without MSG_NOSIGNAL into a connection
 * the peer has reset kills it. The echo server is made to flush into vanished peers many times
 * (the peers run on a loop of their own, beside the server's):
 *   (a1) 400 peers, 50 at a time, each writes 1 MiB and destroys itself on the first echo
 *   (a2) 400 peers write 1 MiB, end(), and destroy themselves once 128 KiB came back, so the
 *        server is still flushing its echo (after the peer's FIN) when the reset arrives
 *   (a3) 400 of our clients over descriptors we made (SO_LINGER {1, 0}, ntls_socket_wrap_fd):
 *        each writes 1 MiB and ends without reading, and is reset as soon as its FIN is
 *        acknowledged, while the server is still echoing (its socket is in CLOSE_WAIT, where a
 *        reset turns the next send into EPIPE)
 *   (a4) raw peers: a Python process whose 50 TLS connections each send 1 MiB and shut down
 *        their write side; half reset themselves once the FIN is acknowledged, the rest die
 *        with the process (SIGKILL), 4 times
 *   (b)  two threads: one writes 64 KiB chunks to 50 client sockets in a loop while the other
 *        destroys them, 4 rounds (200 sockets), with the server echoing
 * The process must survive; the counts are printed. */
#include "client_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1 << 20)
#define PEERS 400
#define CONCURRENT 50

static uint8_t *big;
static atomic_int in_flight, closes, errors, secure;

typedef struct {
    ntls_socket *s;
    int mode;
    size_t got;
    int destroyed;
} peer;
static peer peers[PEERS];
static const size_t vanish_after = 128 * 1024;

static void p_secure(ntls_socket *s, void *d) {
    peer *p = d;
    atomic_fetch_add(&secure, 1);
    ntls_socket_write(s, big, MIB, NULL, NULL);
    if (p->mode == 2) ntls_socket_end(s);
}

static void p_data(ntls_socket *s, const uint8_t *b, size_t n, void *d) {
    (void)b;
    peer *p = d;
    p->got += n;
    if (!p->destroyed && (p->mode == 1 || p->got >= vanish_after)) {
        p->destroyed = 1;
        ntls_socket_destroy(s);
    }
}

static void p_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)e, (void)d;
    atomic_fetch_add(&errors, 1);
}

static void p_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_fetch_add(&closes, 1);
    atomic_fetch_sub(&in_flight, 1);
}

static ntls_options *client_opts(int port) {
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    return o;
}

static atomic_int sigpipes;
static void count_sigpipe(int sig) {
    (void)sig;
    atomic_fetch_add(&sigpipes, 1);
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void vanishing_peers(tu_echo_server *e, int mode) {
    double t0 = now_ms();
    int c0 = atomic_load(&closes), e0 = atomic_load(&errors), s0 = atomic_load(&secure);
    int srv_closed0 = atomic_load(&e->closed_sockets);
    ntls_options *o = client_opts(e->port);
    ntls_loop *lp;
    CHECK_INT(ntls_loop_new(&lp), 0); /* the peers run beside the server's loop, not on it */
    for (int i = 0; i < PEERS; i++) {
        while (atomic_load(&in_flight) >= CONCURRENT) tu_sleep_ms(1);
        peer *p = &peers[i];
        memset(p, 0, sizeof *p);
        p->mode = mode;
        CHECK_INT(ntls_socket_new(lp, &p->s), 0);
        ntls_socket_set_data(p->s, p);
        ntls_socket_on_secure_connect(p->s, p_secure);
        ntls_socket_on_data(p->s, p_data);
        ntls_socket_on_error(p->s, p_error);
        ntls_socket_on_close(p->s, p_close);
        atomic_fetch_add(&in_flight, 1);
        CHECK_INT(ntls_socket_connect(p->s, o), 0);
    }
    WAIT_FOR(atomic_load(&in_flight) == 0, 20000);
    for (int i = 0; i < PEERS; i++) ntls_socket_unref(peers[i].s);
    ntls_options_unref(o);
    WAIT_FOR(ntls_loop_close(lp) == 0, 10000);
    ntls_loop_unref(lp);
    WAIT_FOR(ntls_server_connections(e->srv) == 0, 20000);
    printf("(a%d) %d peers %s: %d secure, %d closed (%d with an error); server closed %d; %.0f ms\n", mode, PEERS,
           mode == 1 ? "wrote 1 MiB, vanished on the first echo" : "wrote 1 MiB + end, vanished mid-echo",
           atomic_load(&secure) - s0, atomic_load(&closes) - c0, atomic_load(&errors) - e0,
           atomic_load(&e->closed_sockets) - srv_closed0, now_ms() - t0);
}

/* (a3): our client over a descriptor we made (SO_LINGER {1, 0}; we keep a dup of it). Each
 * writes 1 MiB and ends without reading the echo; once its FIN has been acknowledged
 * (TCP_INFO says FIN_WAIT2: the server's kernel has all the data and the FIN, so that socket
 * is in CLOSE_WAIT) it is destroyed and the dup closed, which resets the connection while the
 * server is still echoing: from then on every send the server makes gets EPIPE. */
static const size_t wrap_payload = 1 << 20;

typedef struct {
    ntls_socket *s;
    int dupfd;
    atomic_int written, closed, destroyed;
    double written_at;
} wpeer;
static wpeer wpeers[PEERS];

static void w_written(ntls_socket *s, int status, void *arg) {
    (void)s, (void)status;
    wpeer *w = arg;
    w->written_at = now_ms();
    atomic_store(&w->written, 1);
}
static void w_secure(ntls_socket *s, void *d) {
    ntls_socket_write(s, big, wrap_payload, w_written, d);
    ntls_socket_end(s);
}
static void w_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he;
    atomic_store(&((wpeer *)d)->closed, 1);
    atomic_fetch_add(&closes, 1);
    atomic_fetch_sub(&in_flight, 1);
}

static int raw_connect(int port) {
    int fd = tu_raw_connect(port);
    CHECK(fd >= 0);
    struct linger lg = {1, 0}; /* close() resets: the peer vanishes */
    CHECK(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
    return fd;
}

static int fin_acked(int fd) {
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0) return 1;
    return ti.tcpi_state == TCP_FIN_WAIT2 || ti.tcpi_state == TCP_CLOSE || ti.tcpi_state == TCP_TIME_WAIT;
}

static void wrapped_peers(tu_echo_server *e) {
    double t0 = now_ms();
    int c0 = atomic_load(&closes), srv_closed0 = atomic_load(&e->closed_sockets);
    ntls_loop *lp;
    CHECK_INT(ntls_loop_new(&lp), 0); /* the peers run beside the server's loop, not on it */
    ntls_options *o = client_opts(e->port);
    int launched = 0, reaped = 0, reset_in_close_wait = 0;
    while (reaped < PEERS) {
        if (launched < PEERS && atomic_load(&in_flight) < CONCURRENT) {
            wpeer *w = &wpeers[launched++];
            memset(w, 0, sizeof *w);
            CHECK_INT(ntls_socket_new(lp, &w->s), 0);
            ntls_socket_set_data(w->s, w);
            ntls_socket_on_secure_connect(w->s, w_secure);
            ntls_socket_on_close(w->s, w_close);
            ntls_socket_on_error(w->s, p_error);
            atomic_fetch_add(&in_flight, 1);
            int fd = raw_connect(e->port);
            w->dupfd = dup(fd);
            CHECK(w->dupfd >= 0);
            CHECK_INT(ntls_socket_wrap_fd(w->s, fd, o), 0);
            continue;
        }
        for (int i = reaped; i < launched; i++) {
            wpeer *w = &wpeers[i];
            /* (Where buffers are too small for the FIN to get through, reset after 200 ms anyway.) */
            int fin = atomic_load(&w->written) && fin_acked(w->dupfd);
            if (!w->destroyed && (fin || (atomic_load(&w->written) && now_ms() - w->written_at > 200))) {
                w->destroyed = 1;
                reset_in_close_wait += fin;
                ntls_socket_destroy(w->s);
                close(w->dupfd); /* the last reference: SO_LINGER {1, 0} sends the reset */
                w->dupfd = -1;
            }
        }
        while (reaped < launched && atomic_load(&wpeers[reaped].closed)) {
            if (wpeers[reaped].dupfd >= 0) close(wpeers[reaped].dupfd);
            wpeers[reaped].dupfd = -1;
            reaped++;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
        if (now_ms() - t0 > 30000) {
            fprintf(stderr, "wrapped peers: stuck at %d of %d\n", reaped, PEERS);
            exit(1);
        }
    }
    for (int i = 0; i < PEERS; i++) ntls_socket_unref(wpeers[i].s);
    ntls_options_unref(o);
    WAIT_FOR(ntls_loop_close(lp) == 0, 10000);
    ntls_loop_unref(lp);
    WAIT_FOR(ntls_server_connections(e->srv) == 0, 20000);
    printf("(a3) %d wrapped peers wrote %zu KiB + end, reset after their FIN (%d of them): %d closed; server "
           "closed %d; %.0f ms\n",
           PEERS, wrap_payload / 1024, reset_in_close_wait, atomic_load(&closes) - c0,
           atomic_load(&e->closed_sockets) - srv_closed0, now_ms() - t0);
}

/* (a4): raw TLS peers in another process (Python's ssl): each sends 1 MiB and shuts down its
 * write side without reading; once its FIN is acknowledged, every other one resets itself
 * (SO_LINGER {1, 0}, close), and then the process is killed, which resets the rest. */
static const char peer_py[] =
    "import socket, ssl, struct, sys, threading, time\n"
    "port, n = int(sys.argv[1]), int(sys.argv[2])\n"
    "ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE\n"
    "data = b'x' * (1 << 20)\n"
    "ready = threading.Semaphore(0)\n"
    "def one(i):\n"
    "    try:\n"
    "        s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)))\n"
    "        s.settimeout(2)\n"
    "        try: s.sendall(data)\n"
    "        except socket.timeout: pass\n"
    "        s.shutdown(socket.SHUT_WR)\n"
    "        for _ in range(2000):\n" /* until our FIN is acknowledged: FIN_WAIT2 (5) */
    "            if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] in (5, 7, 6): break\n"
    "            time.sleep(0.0002)\n"
    "        if i % 2: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); s.close()\n"
    "    except Exception as e:\n"
    "        sys.stderr.write('peer %d: %r\\n' % (i, e))\n"
    "    ready.release()\n"
    "    threading.Event().wait()\n"
    "for i in range(n): threading.Thread(target=one, args=(i,), daemon=True).start()\n"
    "for i in range(n): ready.acquire()\n"
    "print('sent', flush=True)\n"
    "threading.Event().wait()\n";

static void killed_peers(tu_echo_server *e, int rounds, int per_round) {
    double t0 = now_ms();
    int srv_closed0 = atomic_load(&e->closed_sockets), srv_errors0 = atomic_load(&e->client_errors);
    char port[16], count[16], line[256];
    snprintf(port, sizeof port, "%d", e->port);
    snprintf(count, sizeof count, "%d", per_round);
    for (int r = 0; r < rounds; r++) {
        char *argv[] = {"python3", "-c", (char *)peer_py, port, count, NULL};
        tu_child ch;
        tu_spawn(&ch, argv);
        int ok = tu_read_line(&ch, line, sizeof line, 15000);
        if (!ok || strcmp(line, "sent") != 0) fprintf(stderr, "python peer said: %s\n", line);
        kill(ch.pid, SIGKILL);
        tu_wait_child(&ch, 5000);
    }
    WAIT_FOR(ntls_server_connections(e->srv) == 0, 20000);
    printf("(a4) %d raw peers reset or killed mid-echo: server closed %d secure sockets, %d tlsClientError; %.0f ms\n",
           rounds * per_round, atomic_load(&e->closed_sockets) - srv_closed0,
           atomic_load(&e->client_errors) - srv_errors0, now_ms() - t0);
}

/* (b): a writer thread and a destroyer thread on the same sockets. */
#define SET 50
typedef struct {
    ntls_socket *s;
    atomic_int closed, secure;
    atomic_long queued, done;
    int reads;
} target;
static target set[SET];
static atomic_int stop_writer;
static atomic_long writes_ok, writes_refused;

static void t_written(ntls_socket *s, int status, void *arg) {
    (void)s, (void)status;
    atomic_fetch_add(&((target *)arg)->done, 64 * 1024);
}
static void t_secure(ntls_socket *s, void *d) {
    (void)s;
    atomic_store(&((target *)d)->secure, 1);
}
static void t_data(ntls_socket *s, const uint8_t *b, size_t n, void *d) {
    (void)s, (void)b, (void)n, (void)d;
}
static void t_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he;
    atomic_store(&((target *)d)->closed, 1);
    atomic_fetch_add(&closes, 1);
}

static void *writer(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_writer)) {
        int busy = 0;
        for (int i = 0; i < SET; i++) {
            target *t = &set[i];
            if (atomic_load(&t->queued) - atomic_load(&t->done) > 512 * 1024) continue;
            int rc = ntls_socket_write(t->s, big, 64 * 1024, t_written, t);
            if (rc >= 0) {
                atomic_fetch_add(&t->queued, 64 * 1024);
                atomic_fetch_add(&writes_ok, 1);
                busy = 1;
            } else {
                atomic_fetch_add(&writes_refused, 1);
            }
        }
        if (!busy) tu_sleep_ms(1);
    }
    return NULL;
}

static void *destroyer(void *arg) {
    (void)arg;
    unsigned r = 7;
    for (int i = 0; i < SET; i++) {
        r = r * 1103515245u + 12345u;
        struct timespec ts = {0, (long)((r >> 8) % 2000) * 1000L};
        nanosleep(&ts, NULL);
        ntls_socket_destroy(set[i].s);
    }
    return NULL;
}

static void write_while_destroying(tu_echo_server *e, int rounds) {
    double t0 = now_ms();
    ntls_options *o = client_opts(e->port);
    int c0 = atomic_load(&closes);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < SET; i++) {
            target *t = &set[i];
            memset(t, 0, sizeof *t);
            CHECK_INT(ntls_socket_new(NULL, &t->s), 0);
            ntls_socket_set_data(t->s, t);
            ntls_socket_on_secure_connect(t->s, t_secure);
            if (i % 2) ntls_socket_on_data(t->s, t_data); /* half read the echo, half let it pile up */
            ntls_socket_on_close(t->s, t_close);
            CHECK_INT(ntls_socket_connect(t->s, o), 0);
        }
        for (int i = 0; i < SET; i++) WAIT_FOR(atomic_load(&set[i].secure) || atomic_load(&set[i].closed), 10000);
        atomic_store(&stop_writer, 0);
        pthread_t w, d;
        CHECK_INT(pthread_create(&w, NULL, writer, NULL), 0);
        tu_sleep_ms(20); /* let the echo get going */
        CHECK_INT(pthread_create(&d, NULL, destroyer, NULL), 0);
        pthread_join(d, NULL);
        for (int i = 0; i < SET; i++) WAIT_FOR(atomic_load(&set[i].closed), 10000);
        atomic_store(&stop_writer, 1);
        pthread_join(w, NULL);
        for (int i = 0; i < SET; i++) ntls_socket_unref(set[i].s);
    }
    ntls_options_unref(o);
    WAIT_FOR(ntls_server_connections(e->srv) == 0, 20000);
    printf("(b) %d sockets written to while destroyed: %d closed, %ld writes taken, %ld refused; %.0f ms\n",
           rounds * SET, atomic_load(&closes) - c0, atomic_load(&writes_ok), atomic_load(&writes_refused),
           now_ms() - t0);
}

int main(void) {
    tu_init(58);
    signal(SIGPIPE, SIG_DFL); /* the point of the test: no one ignores SIGPIPE for the library */
    /* Diagnosis only: COUNT_SIGPIPE=1 counts the signals instead of dying of the first one;
     * ONLY=12 runs (a1) and (a2) only (letters 1 2 3 4 b). */
    if (getenv("COUNT_SIGPIPE")) signal(SIGPIPE, count_sigpipe);
    const char *only = getenv("ONLY");
    big = calloc(1, MIB);
    CHECK(big != NULL);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    if (!only || strchr(only, '1')) vanishing_peers(&e, 1);
    if (!only || strchr(only, '2')) vanishing_peers(&e, 2);
    if (!only || strchr(only, '3')) wrapped_peers(&e);
    if (!only || strchr(only, '4')) killed_peers(&e, 4, 50);
    if (!only || strchr(only, 'b')) write_while_destroying(&e, 4);
    if (getenv("COUNT_SIGPIPE")) printf("SIGPIPEs counted: %d\n", atomic_load(&sigpipes));
    tu_echo_stop(&e);
    ntls_options_unref(so);
    free(big);
    printf("still alive: no SIGPIPE\n");
    return 0;
}
