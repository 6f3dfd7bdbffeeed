/* Small helpers shared by the C tests: checks, bounded waits, files, child processes. */
#ifndef NODETLS_TEST_UTIL_H
#define NODETLS_TEST_UTIL_H

#include "nodetls.h"
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

#define CHECK_INT(a, b)                                                                         \
    do {                                                                                        \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                   \
        if (va_ != vb_) {                                                                       \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, \
                    va_, #b, vb_);                                                              \
            exit(1);                                                                            \
        }                                                                                       \
    } while (0)

#define CHECK_STR(a, b)                                                                          \
    do {                                                                                         \
        const char *sa_ = (a), *sb_ = (b);                                                       \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                                             \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,     \
                    sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");                                 \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* Polls `cond` every 2 ms for at most `ms`; fails the test on timeout. */
#define WAIT_FOR(cond, ms)                                                                       \
    do {                                                                                         \
        int waited_ = 0;                                                                         \
        while (!(cond)) {                                                                        \
            if (waited_ >= (ms)) {                                                               \
                fprintf(stderr, "%s:%d: timed out waiting for %s\n", __FILE__, __LINE__, #cond); \
                exit(1);                                                                         \
            }                                                                                    \
            tu_sleep_ms(2);                                                                      \
            waited_ += 2;                                                                        \
        }                                                                                        \
    } while (0)

/* Starts the test: a hard alarm so nothing hangs (on expiry, or on any exit, children started
 * with tu_spawn are killed: a failed CHECK never leaves an openssl or node process behind). */
void tu_init(int seconds);
void tu_sleep_ms(int ms);
/* Path of a file in the test-certificate directory (static buffer rotation, 8 slots). */
const char *tu_cert(const char *name);
/* Whole file, NUL-terminated; exits on failure. */
char *tu_read_file(const char *path, size_t *len);
/* Adds a PEM file from the certificate directory to a bytes option. */
void tu_add_pem(ntls_options *o, int key, const char *name);
/* Adds `<name>-key.pem` and `<name>-cert.pem` (a key and its certificate) to `o`. */
void tu_add_key_cert(ntls_options *o, const char *name);
/* Options for a server with `<name>-key.pem` and `<name>-cert.pem`. */
ntls_options *tu_server_options(const char *name);
/* Listens on 127.0.0.1:0, returns the port. */
int tu_listen(ntls_server *srv);
/* Listens on 127.0.0.1:port (0: any), returns the port. */
int tu_listen_on(ntls_server *srv, int port);
/* Closes a server and waits for its close event. */
void tu_close_server(ntls_server *srv);
/* A port with nothing listening on it. */
int tu_closed_port(void);

/* A child process with pipes to its stdin and stdout. */
typedef struct {
    pid_t pid;
    int in_fd;
    int out_fd;
} tu_child;
/* Starts argv[0] (searched in PATH) with the given arguments; killed at exit if still running. */
void tu_spawn(tu_child *c, char *const argv[]);
/* tu_spawn, then reads its output until a line contains `ready` (within `ms` per line);
 * returns 0 if it never printed one. */
int tu_spawn_ready(tu_child *c, char *const argv[], const char *ready, int ms);
/* Reads one line (without '\n') within `ms`; returns 0 on EOF or timeout. */
int tu_read_line(tu_child *c, char *buf, size_t len, int ms);
/* Writes all of `s` to the child's stdin. */
void tu_write_child(tu_child *c, const char *s);
/* Waits for the child to exit within `ms` (killing it afterwards); returns its exit status. */
int tu_wait_child(tu_child *c, int ms);
/* Runs argv (stdin closed after `linger_ms`), handing each output line to `line_cb` (may be
 * NULL), until it exits; every read and the exit wait are bounded. */
void tu_run_lines(char *const argv[], int linger_ms, void (*line_cb)(const char *line, void *arg), void *arg);
/* The same, returning how many output lines contain `a` (and `b`, unless NULL). */
int tu_run_count(char *const argv[], int linger_ms, const char *a, const char *b);
/* Directory of the node peer scripts. */
const char *tu_peers_dir(void);

/* A simple echo server used by many tests: data is written back, backpressure honoured. */
typedef struct {
    ntls_server *srv;
    int port;
    atomic_int secure;
    atomic_int client_errors;
    atomic_int closed_sockets;
    atomic_int server_closed;
    char last_client_error[128];
    char last_alpn[32];
} tu_echo_server;
void tu_echo_start(tu_echo_server *e, ntls_loop *loop, ntls_options *o);
/* Makes e->srv (already created) an echo server: callbacks and data, no listen. */
void tu_echo_attach(tu_echo_server *e);
/* The same on a given port (with reusePort, several servers can share one). */
void tu_echo_start_on(tu_echo_server *e, ntls_loop *loop, ntls_options *o, int port);
void tu_echo_stop(tu_echo_server *e);

/* The value of "key" in a flat JSON object line: strings without quotes, others as written.
 * Nested objects: pass "outer.inner". Returns 0 when absent. */
int tu_json(const char *line, const char *key, char *out, size_t len);

#endif
