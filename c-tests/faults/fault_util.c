/* Helpers of the fault suite (see fault_util.h). */
#define _GNU_SOURCE
#include "fault_util.h"
#include "client_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>

int fu_count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    int n = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL)
        if (ent->d_name[0] != '.') n++;
    closedir(d);
    return n - 1;
}

double fu_cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

double fu_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

void fu_echo_once(int port, const char *text) {
    tu_client c;
    c.send_on_secure = text;
    c.hold = 0;
    tu_client_connect(&c, NULL, port, NULL);
    tu_client_wait_closed(&c, 10000);
    CHECK_STR(c.received, text);
    tu_client_free(&c);
}

void fu_loopback(struct sockaddr_in *a, int port) {
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int fu_raw_connect(int port) {
    struct sockaddr_in a;
    fu_loopback(&a, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void fu_raise_fd_limit(int want) {
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t w = (rlim_t)want;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= w ? w : rl.rlim_max;
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
}

typedef struct {
    fu_server *f;
    long received;
} fu_conn;

static void fu_log(fu_server *f, const char *entry) {
    pthread_mutex_lock(&f->mu);
    size_t used = strlen(f->log);
    snprintf(f->log + used, sizeof f->log - used, "%s%s", used ? " " : "", entry);
    pthread_mutex_unlock(&f->mu);
}

static void fu_data(ntls_socket *s, const uint8_t *b, size_t n, void *d) {
    ((fu_conn *)d)->received += (long)n;
    if (ntls_socket_write(s, b, n, NULL, NULL) == 0) ntls_socket_pause(s);
}
static void fu_drain(ntls_socket *s, void *d) {
    (void)d;
    ntls_socket_resume(s);
}
static void fu_end(ntls_socket *s, void *d) {
    (void)s;
    fu_conn *c = d;
    char entry[64];
    snprintf(entry, sizeof entry, "end(%ld)", c->received);
    fu_log(c->f, entry);
}
static void fu_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s;
    char entry[160];
    snprintf(entry, sizeof entry, "error(%s)", ntls_error_code(e));
    fu_log(((fu_conn *)d)->f, entry);
}
static void fu_close(ntls_socket *s, int had_error, void *d) {
    fu_conn *c = d;
    fu_log(c->f, had_error ? "close(1)" : "close(0)");
    atomic_fetch_add(&c->f->closed, 1);
    ntls_socket_set_data(s, NULL);
    free(c);
}
static void fu_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv;
    fu_server *f = d;
    fu_conn *c = calloc(1, sizeof *c);
    c->f = f;
    fu_log(f, "secure");
    atomic_fetch_add(&f->secure, 1);
    ntls_socket_set_data(s, c);
    ntls_socket_on_end(s, fu_end);
    ntls_socket_on_error(s, fu_error);
    ntls_socket_on_close(s, fu_close);
    ntls_socket_on_drain(s, fu_drain);
    ntls_socket_on_data(s, fu_data);
}
static void fu_client_error(ntls_server *srv, const ntls_error *e, ntls_socket *s, void *d) {
    (void)srv, (void)s;
    fu_server *f = d;
    char entry[160];
    snprintf(entry, sizeof entry, "tlsClientError(%s)", ntls_error_code(e));
    fu_log(f, entry);
    atomic_fetch_add(&f->client_errors, 1);
}

void fu_server_start(fu_server *f, ntls_loop *loop, ntls_options *o) {
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    int rc = ntls_server_new(loop, o, &f->srv);
    if (rc != 0) fprintf(stderr, "server_new: %s\n", ntls_options_last_error(o));
    CHECK_INT(rc, 0);
    ntls_server_on_secure_connection(f->srv, fu_secure);
    ntls_server_on_tls_client_error(f->srv, fu_client_error);
    CHECK_INT(ntls_server_set_data(f->srv, f), 0);
    f->port = tu_listen(f->srv);
}

void fu_server_take_log(fu_server *f, char *out, size_t len) {
    pthread_mutex_lock(&f->mu);
    snprintf(out, len, "%s", f->log);
    f->log[0] = 0;
    pthread_mutex_unlock(&f->mu);
}

void fu_server_stop(fu_server *f) {
    tu_close_server(f->srv);
    ntls_server_unref(f->srv);
    f->srv = NULL;
    pthread_mutex_destroy(&f->mu);
}

void fu_hostile(const char *scenario, int port, char *line, size_t len) {
    char script[512], p[16];
    snprintf(script, sizeof script, "%s/hostile.py", NODETLS_FAULT_PEERS);
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = {"python3", script, (char *)scenario, p, NULL};
    tu_child ch;
    tu_spawn(&ch, argv);
    int ok = tu_read_line(&ch, line, len, 30000);
    int status = tu_wait_child(&ch, 30000);
    if (!ok || status != 0 || strncmp(line, "peer: ", 6) != 0) {
        fprintf(stderr, "hostile.py %s: exit %d, said '%s'\n", scenario, status, ok ? line : "");
        exit(1);
    }
}
