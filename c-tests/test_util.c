/* Helpers shared by the C tests. */
#define _GNU_SOURCE
#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* Children started by tu_spawn and not yet reaped: killed on exit and when the alarm fires. */
#define TU_MAX_CHILDREN 16
static volatile sig_atomic_t children[TU_MAX_CHILDREN];

static void kill_children(void) {
    for (int i = 0; i < TU_MAX_CHILDREN; i++) {
        pid_t pid = (pid_t)children[i];
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            children[i] = 0;
        }
    }
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test timed out (alarm): killing child processes\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    kill_children(); /* kill and waitpid are async-signal-safe */
    _exit(1);
}

void tu_init(int seconds) {
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    atexit(kill_children);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)seconds);
}

void tu_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *tu_cert(const char *name) {
    static char bufs[8][512];
    static atomic_int slot;
    char *b = bufs[atomic_fetch_add(&slot, 1) % 8];
    snprintf(b, 512, "%s/%s", NODETLS_CERTS, name);
    return b;
}

char *tu_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    CHECK(b != NULL);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = 0;
    fclose(f);
    if (len) *len = got;
    return b;
}

void tu_add_pem(ntls_options *o, int key, const char *name) {
    size_t n;
    char *pem = tu_read_file(tu_cert(name), &n);
    CHECK_INT(ntls_options_add_bytes(o, key, (const uint8_t *)pem, n), 0);
    free(pem);
}

void tu_add_key_cert(ntls_options *o, const char *name) {
    char key[128], cert[128];
    snprintf(key, sizeof key, "%s-key.pem", name);
    snprintf(cert, sizeof cert, "%s-cert.pem", name);
    tu_add_pem(o, NTLS_OPT_KEY, key);
    tu_add_pem(o, NTLS_OPT_CERT, cert);
}

ntls_options *tu_server_options(const char *name) {
    ntls_options *o = NULL;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_key_cert(o, name);
    return o;
}

static void on_listen(ntls_server *srv, int status, void *data) {
    (void)srv;
    atomic_int *st = data;
    atomic_store(st, status == 0 ? 1 : status);
}

int tu_listen(ntls_server *srv) { return tu_listen_on(srv, 0); }

int tu_listen_on(ntls_server *srv, int want) {
    static atomic_int state[64];
    static atomic_int next;
    atomic_int *st = &state[atomic_fetch_add(&next, 1) % 64];
    atomic_store(st, 0);
    void *saved = ntls_server_get_data(srv);
    CHECK_INT(ntls_server_set_data(srv, st), 0);
    CHECK_INT(ntls_server_listen(srv, "127.0.0.1", want, on_listen), 0);
    WAIT_FOR(atomic_load(st) != 0, 5000);
    CHECK_INT(atomic_load(st), 1);
    CHECK_INT(ntls_server_set_data(srv, saved), 0);
    int port = 0, family = 0;
    char host[64];
    CHECK_INT(ntls_server_address(srv, host, sizeof host, &port, &family), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(family, 4);
    CHECK(port > 0);
    return port;
}

static void on_server_closed(ntls_server *srv, void *data) {
    (void)srv;
    atomic_store((atomic_int *)data, 1);
}

void tu_close_server(ntls_server *srv) {
    static atomic_int closed[64];
    static atomic_int next;
    atomic_int *c = &closed[atomic_fetch_add(&next, 1) % 64];
    atomic_store(c, 0);
    CHECK_INT(ntls_server_set_data(srv, c), 0);
    CHECK_INT(ntls_server_close(srv, on_server_closed), 0);
    WAIT_FOR(atomic_load(c) == 1, 10000);
}

int tu_raw_connect(int port) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int tu_raw_listen(int *port) {
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    CHECK(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 64) == 0);
    socklen_t l = sizeof a;
    CHECK(getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

int tu_closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    return ntohs(a.sin_port);
}

void tu_spawn(tu_child *c, char *const argv[]) {
    int in[2], out[2];
    /* CLOEXEC: a later child must not inherit this one's pipes (dup2 clears it for 0/1/2). */
    CHECK(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    int rc = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s: %s\n", argv[0], strerror(rc));
        exit(1);
    }
    close(in[0]);
    close(out[1]);
    c->in_fd = in[1];
    c->out_fd = out[0];
    int slot = 0;
    while (slot < TU_MAX_CHILDREN && children[slot] != 0) slot++;
    CHECK(slot < TU_MAX_CHILDREN);
    children[slot] = c->pid;
}

int tu_spawn_ready(tu_child *c, char *const argv[], const char *ready, int ms) {
    char line[1024];
    tu_spawn(c, argv);
    while (tu_read_line(c, line, sizeof line, ms))
        if (strstr(line, ready)) return 1;
    return 0;
}

static void forget_child(pid_t pid) {
    for (int i = 0; i < TU_MAX_CHILDREN; i++)
        if (children[i] == pid) children[i] = 0;
}

int tu_read_line(tu_child *c, char *buf, size_t len, int ms) {
    size_t n = 0;
    while (n + 1 < len) {
        struct pollfd p = {c->out_fd, POLLIN, 0};
        if (poll(&p, 1, ms) <= 0) break;
        char ch;
        ssize_t r = read(c->out_fd, &ch, 1);
        if (r <= 0) break;
        if (ch == '\n') {
            buf[n] = 0;
            return 1;
        }
        buf[n++] = ch;
    }
    buf[n] = 0;
    return n > 0;
}

void tu_write_child(tu_child *c, const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(c->in_fd, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

int tu_wait_child(tu_child *c, int ms) {
    int status = 0;
    for (int waited = 0; waited < ms; waited += 5) {
        if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
            forget_child(c->pid);
            close(c->in_fd);
            close(c->out_fd);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
        }
        tu_sleep_ms(5);
    }
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &status, 0);
    forget_child(c->pid);
    close(c->in_fd);
    close(c->out_fd);
    return 124;
}

const char *tu_peers_dir(void) { return NODETLS_PEERS; }

static void echo_drain(ntls_socket *s, void *data) {
    (void)data;
    ntls_socket_resume(s);
}

static void echo_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    (void)data;
    if (ntls_socket_write(s, buf, len, NULL, NULL) == 0) ntls_socket_pause(s);
}

static void echo_close(ntls_socket *s, int had_error, void *data) {
    (void)s;
    (void)had_error;
    tu_echo_server *e = data;
    atomic_fetch_add(&e->closed_sockets, 1);
}

static void echo_secure(ntls_server *srv, ntls_socket *s, void *data) {
    (void)srv;
    tu_echo_server *e = data;
    ntls_socket_set_data(s, e);
    ntls_socket_on_close(s, echo_close);
    ntls_socket_on_drain(s, echo_drain);
    ntls_socket_on_data(s, echo_data);
    const char *alpn = ntls_socket_alpn_protocol(s);
    snprintf(e->last_alpn, sizeof e->last_alpn, "%s", alpn ? alpn : "");
    atomic_fetch_add(&e->secure, 1);
}

static void echo_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *data) {
    (void)srv;
    (void)s;
    tu_echo_server *e = data;
    snprintf(e->last_client_error, sizeof e->last_client_error, "%s", ntls_error_code(err));
    atomic_fetch_add(&e->client_errors, 1);
}

void tu_echo_start(tu_echo_server *e, ntls_loop *loop, ntls_options *o) { tu_echo_start_on(e, loop, o, 0); }

void tu_echo_attach(tu_echo_server *e) {
    ntls_server_on_secure_connection(e->srv, echo_secure);
    ntls_server_on_tls_client_error(e->srv, echo_client_error);
    CHECK_INT(ntls_server_set_data(e->srv, e), 0);
}

void tu_echo_start_on(tu_echo_server *e, ntls_loop *loop, ntls_options *o, int port) {
    memset(e, 0, sizeof *e);
    int rc = ntls_server_new(loop, o, &e->srv);
    if (rc != 0) fprintf(stderr, "server_new: %s\n", ntls_options_last_error(o));
    CHECK_INT(rc, 0);
    e->port = tu_listen_on(e->srv, port);
    tu_echo_attach(e);
}

static void echo_server_closed(ntls_server *srv, void *data) {
    (void)srv;
    atomic_store(&((tu_echo_server *)data)->server_closed, 1);
}

void tu_echo_stop(tu_echo_server *e) {
    CHECK_INT(ntls_server_close(e->srv, echo_server_closed), 0);
    WAIT_FOR(atomic_load(&e->server_closed) == 1, 10000);
    ntls_server_unref(e->srv);
    e->srv = NULL;
}

#include "client_util.h"

static void cu_secure(ntls_socket *s, void *d) {
    tu_client *c = d;
    /* Node's getters answer null once the socket closed: take what the tests ask now. */
    const char *p = ntls_socket_get_protocol(s);
    snprintf(c->protocol, sizeof c->protocol, "%s", p ? p : "");
    CHECK(c->peer == NULL); /* secureConnect fires once */
    ntls_socket_get_peer_certificate(s, 1, &c->peer);
    atomic_store(&c->secure, 1);
    if (c->send_on_secure) ntls_socket_write(s, c->send_on_secure, strlen(c->send_on_secure), NULL, NULL);
    else ntls_socket_end(s);
}

static void cu_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    tu_client *c = d;
    size_t at = atomic_load(&c->received_len);
    if (at + len < sizeof c->received) {
        memcpy(c->received + at, buf, len);
        atomic_store(&c->received_len, at + len);
    }
    if (c->send_on_secure && !c->hold && atomic_load(&c->received_len) >= strlen(c->send_on_secure))
        ntls_socket_end(s);
}

static void cu_end(ntls_socket *s, void *d) {
    (void)s;
    atomic_store(&((tu_client *)d)->ended, 1);
}

static void cu_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s;
    tu_client *c = d;
    snprintf(c->error_code, sizeof c->error_code, "%s", ntls_error_code(err));
    atomic_fetch_add(&c->errors, 1);
}

static void cu_close(ntls_socket *s, int had_error, void *d) {
    tu_client *c = d;
    ntls_cert *after = NULL;
    CHECK(ntls_socket_get_protocol(s) == NULL);
    CHECK_INT(ntls_socket_get_peer_certificate(s, 0, &after), NTLS_ENOTCONN);
    CHECK_INT(ntls_socket_get_cipher(s, NULL, NULL, NULL), NTLS_ENOTCONN);
    CHECK_INT(ntls_socket_remote_address(s, NULL, 0, NULL, NULL), NTLS_ENOTCONN);
    CHECK_INT(ntls_socket_is_session_reused(s), 0);
    atomic_store(&c->had_error, had_error);
    atomic_fetch_add(&c->closed, 1);
}

void tu_client_watch(tu_client *c) {
    ntls_socket_set_data(c->s, c);
    ntls_socket_on_secure_connect(c->s, cu_secure);
    ntls_socket_on_data(c->s, cu_data);
    ntls_socket_on_end(c->s, cu_end);
    ntls_socket_on_error(c->s, cu_error);
    ntls_socket_on_close(c->s, cu_close);
}

void tu_client_connect(tu_client *c, ntls_loop *loop, int port, void (*configure)(ntls_options *)) {
    const char *msg = c->send_on_secure;
    int hold = c->hold;
    memset(c, 0, sizeof *c);
    c->send_on_secure = msg;
    c->hold = hold;
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    if (configure) configure(o);
    CHECK_INT(ntls_socket_new(loop, &c->s), 0);
    tu_client_watch(c);
    int rc = ntls_socket_connect(c->s, o);
    if (rc != 0) fprintf(stderr, "connect: %s\n", ntls_options_last_error(o));
    CHECK_INT(rc, 0);
    ntls_options_unref(o);
}

void tu_client_wait_closed(tu_client *c, int ms) {
    for (int waited = 0; atomic_load(&c->closed) != 1; waited += 2) {
        if (waited >= ms) {
            fprintf(stderr, "client did not close: secure=%d ended=%d errors=%d (%s) received=%zu\n",
                    atomic_load(&c->secure), atomic_load(&c->ended), atomic_load(&c->errors), c->error_code,
                    atomic_load(&c->received_len));
            exit(1);
        }
        tu_sleep_ms(2);
    }
}

int tu_json(const char *line, const char *key, char *out, size_t len) {
    const char *dot = strchr(key, '.');
    if (dot) {
        char outer[64];
        snprintf(outer, sizeof outer, "\"%.*s\":{", (int)(dot - key), key);
        const char *at = strstr(line, outer);
        return at ? tu_json(at + strlen(outer) - 1, dot + 1, out, len) : 0;
    }
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *at = strstr(line, pat);
    if (!at) return 0;
    at += strlen(pat);
    size_t n = 0;
    if (*at == '"') {
        at++;
        while (at[n] && at[n] != '"' && n + 1 < len) n++;
    } else {
        while (at[n] && at[n] != ',' && at[n] != '}' && n + 1 < len) n++;
    }
    memcpy(out, at, n);
    out[n] = 0;
    return 1;
}

void tu_client_free(tu_client *c) {
    ntls_cert_unref(c->peer);
    c->peer = NULL;
    ntls_socket_unref(c->s);
    c->s = NULL;
}

void tu_run_lines(char *const argv[], int linger_ms, void (*line_cb)(const char *line, void *arg), void *arg) {
    tu_child c;
    tu_spawn(&c, argv);
    if (linger_ms) tu_sleep_ms(linger_ms);
    close(c.in_fd);
    c.in_fd = -1;
    char line[512];
    while (tu_read_line(&c, line, sizeof line, 10000))
        if (line_cb) line_cb(line, arg);
    tu_wait_child(&c, 10000);
}

typedef struct {
    const char *a, *b;
    int n;
} tu_count;

static void count_line(const char *line, void *arg) {
    tu_count *c = arg;
    if (strstr(line, c->a) && (!c->b || strstr(line, c->b))) c->n++;
}

int tu_run_count(char *const argv[], int linger_ms, const char *a, const char *b) {
    tu_count c = {a, b, 0};
    tu_run_lines(argv, linger_ms, count_line, &c);
    return c.n;
}

