/* Helpers of the fault suite: clocks, the process's descriptors, a one-shot echo client. */
#ifndef NODETLS_FAULT_UTIL_H
#define NODETLS_FAULT_UTIL_H

/* Open descriptors of this process (entries of /proc/self/fd, less the one reading it). */
int fu_count_fds(void);
/* CPU time (user + system) of the whole process so far, in ms. */
double fu_cpu_ms(void);
/* A monotonic clock in ms. */
double fu_now_ms(void);
/* Connects a nodetls client to 127.0.0.1:port, writes `text`, checks the echo, ends. */
void fu_echo_once(int port, const char *text);
/* A plain TCP socket connected to 127.0.0.1:port (blocking), or -1 with errno set. */
int fu_raw_connect(int port);
/* The address 127.0.0.1:port. */
struct sockaddr_in;
void fu_loopback(struct sockaddr_in *a, int port);
/* Raises the soft descriptor limit to min(hard limit, `want`). */
void fu_raise_fd_limit(int want);



#include "nodetls.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

/* An echo server that writes down what its connections go through, in Node's words, one
 * space-separated entry per event: "secure", "end(N)" (N bytes received by then),
 * "error(CODE)", "close(HAD_ERROR)", and "tlsClientError(CODE)" for the server event. */
typedef struct {
    ntls_server *srv;
    int port;
    pthread_mutex_t mu;
    char log[8192];
    atomic_int secure, closed, client_errors;
} fu_server;
/* Creates, watches and listens (127.0.0.1:0) with the given options. */
void fu_server_start(fu_server *f, ntls_loop *loop, ntls_options *o);
/* A copy of the log so far, then the log is emptied. */
void fu_server_take_log(fu_server *f, char *out, size_t len);
void fu_server_stop(fu_server *f);
/* Runs `python3 hostile.py scenario port` (c-tests/faults/peers), returns its "peer:" line. */
void fu_hostile(const char *scenario, int port, char *line, size_t len);
#endif
