/* One server of a fleet whose TLS sessions outlive the process that made them.
 *
 *   nodetls-session-fleet KEY.pem CERT.pem MODE
 *
 * MODE "redis:PORT": sessions live in Redis on 127.0.0.1:PORT (newSession stores them with
 * SET ... EX 300, resumeSession reads them with GET), speaking RESP directly; tickets are
 * off (NTLS_SSL_OP_NO_TICKET), so TLS 1.2 resumes by session ID and TLS 1.3 by stateful
 * tickets, on whichever process of the fleet the client reaches.
 * MODE "tickets:HEX96": every process shares the 48 ticket-key bytes; a line "rotate HEX96"
 * on stdin rotates them (ntls_server_rotate_ticket_keys: old tickets still resume for
 * sessionTimeout) and is answered "rotated".
 *
 * Prints "port N" once listening; tells each client "<pid> R1" (resumed) or "<pid> R0" and
 * ends; exits when stdin closes. The Redis calls never run on the loop thread: callbacks
 * queue them to a worker thread, which finishes each ntls_request. */
#include "nodetls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- A Redis connection speaking RESP, used by the worker thread only ---------------- */

static int redis_fd = -1;
static char rbuf[65536];
static size_t rlen, rpos;

static int redis_connect(int port) {
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    redis_fd = socket(AF_INET, SOCK_STREAM, 0);
    return redis_fd >= 0 && connect(redis_fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : -1;
}

static int redis_byte(void) {
    if (rpos == rlen) {
        ssize_t n = read(redis_fd, rbuf, sizeof rbuf);
        if (n <= 0) return -1;
        rlen = (size_t)n;
        rpos = 0;
    }
    return (unsigned char)rbuf[rpos++];
}

/* One reply line (without CRLF) into `line`; -1 on a broken connection. */
static int redis_line(char *line, size_t len) {
    size_t n = 0;
    for (;;) {
        int c = redis_byte();
        if (c < 0) return -1;
        if (c == '\n') break;
        if (c != '\r' && n + 1 < len) line[n++] = (char)c;
    }
    line[n] = 0;
    return 0;
}

static int send_all(const void *p, size_t n) {
    const char *b = p;
    while (n) {
        ssize_t w = write(redis_fd, b, n);
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Sends a command of `argc` binary-safe arguments. */
static int redis_command(int argc, const void *const *argv, const size_t *lens) {
    char head[32];
    snprintf(head, sizeof head, "*%d\r\n", argc);
    if (send_all(head, strlen(head))) return -1;
    for (int i = 0; i < argc; i++) {
        snprintf(head, sizeof head, "$%zu\r\n", lens[i]);
        if (send_all(head, strlen(head)) || send_all(argv[i], lens[i]) || send_all("\r\n", 2)) return -1;
    }
    return 0;
}

/* "tls:" and the session ID in hex. */
static size_t key_of(const uint8_t *id, size_t len, char *out) {
    memcpy(out, "tls:", 4);
    for (size_t i = 0; i < len; i++) snprintf(out + 4 + 2 * i, 3, "%02x", id[i]);
    return 4 + 2 * len;
}

/* ---- The worker: a queue of store and fetch jobs ------------------------------------ */

typedef struct job {
    struct job *next;
    ntls_request *req;
    int store; /* 1: SET (newSession), 0: GET (resumeSession) */
    char key[4 + 2 * 64 + 1];
    size_t key_len;
    uint8_t *value;
    size_t value_len;
} job;

static job *head, *tail;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void enqueue(job *j) {
    pthread_mutex_lock(&mu);
    if (tail) tail->next = j; else head = j;
    tail = j;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

static void run_job(job *j) {
    char line[128];
    if (j->store) {
        const void *argv[] = {"SET", j->key, j->value, "EX", "300"};
        size_t lens[] = {3, j->key_len, j->value_len, 2, 3};
        if (redis_command(5, argv, lens) || redis_line(line, sizeof line) || line[0] != '+') {
            ntls_request_fail(j->req, "redis: SET failed");
            return;
        }
        ntls_request_session_done(j->req, NULL, 0);
        return;
    }
    const void *argv[] = {"GET", j->key};
    size_t lens[] = {3, j->key_len};
    if (redis_command(2, argv, lens) || redis_line(line, sizeof line) || line[0] != '$') {
        ntls_request_fail(j->req, "redis: GET failed");
        return;
    }
    long n = atol(line + 1);
    if (n < 0) { /* nil: not stored, a full handshake */
        ntls_request_session_done(j->req, NULL, 0);
        return;
    }
    uint8_t *value = malloc((size_t)n + 2);
    for (long i = 0; i < n + 2; i++) {
        int c = redis_byte();
        if (c < 0) {
            free(value);
            ntls_request_fail(j->req, "redis: connection lost");
            return;
        }
        value[i] = (uint8_t)c;
    }
    ntls_request_session_done(j->req, value, (size_t)n);
    free(value);
}

static void *worker(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&mu);
        while (!head) pthread_cond_wait(&cv, &mu);
        job *j = head;
        head = j->next;
        if (!head) tail = NULL;
        pthread_mutex_unlock(&mu);
        run_job(j);
        free(j->value);
        free(j);
    }
    return NULL;
}

static void on_new_session(ntls_server *srv, const uint8_t *id, size_t id_len, const uint8_t *session,
                           size_t session_len, ntls_request *req, void *data) {
    (void)srv;
    (void)data;
    job *j = calloc(1, sizeof *j);
    j->req = req;
    j->store = 1;
    j->key_len = key_of(id, id_len > 64 ? 64 : id_len, j->key);
    j->value = malloc(session_len);
    memcpy(j->value, session, session_len);
    j->value_len = session_len;
    enqueue(j);
}

static void on_resume_session(ntls_server *srv, const uint8_t *id, size_t id_len, ntls_request *req, void *data) {
    (void)srv;
    (void)data;
    job *j = calloc(1, sizeof *j);
    j->req = req;
    j->key_len = key_of(id, id_len > 64 ? 64 : id_len, j->key);
    enqueue(j);
}

/* ---- The server ------------------------------------------------------------------- */

static void on_secure(ntls_server *srv, ntls_socket *s, void *data) {
    (void)srv;
    (void)data;
    char msg[64];
    int n = snprintf(msg, sizeof msg, "%d R%d\n", (int)getpid(), ntls_socket_is_session_reused(s));
    ntls_socket_resume(s);
    ntls_socket_write(s, msg, (size_t)n, NULL, NULL);
    ntls_socket_end(s);
}

static int unhex(const char *hex, uint8_t *out, size_t len) {
    if (strlen(hex) < 2 * len) return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static int add_file(ntls_options *o, int key, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return ntls_options_add_bytes(o, key, (const uint8_t *)buf, n);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s KEY.pem CERT.pem redis:PORT|tickets:HEX96\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    ntls_options *o = NULL;
    ntls_options_new(&o);
    if (add_file(o, NTLS_OPT_KEY, argv[1]) || add_file(o, NTLS_OPT_CERT, argv[2])) {
        fprintf(stderr, "cannot read the key or certificate\n");
        return 1;
    }
    int redis = strncmp(argv[3], "redis:", 6) == 0;
    uint8_t keys[48];
    if (redis) {
        if (redis_connect(atoi(argv[3] + 6))) {
            fprintf(stderr, "cannot reach redis\n");
            return 1;
        }
        ntls_options_set_int(o, NTLS_OPT_SECURE_OPTIONS, NTLS_SSL_OP_NO_TICKET);
    } else if (strncmp(argv[3], "tickets:", 8) == 0 && unhex(argv[3] + 8, keys, 48) == 0) {
        ntls_options_set_bytes(o, NTLS_OPT_TICKET_KEYS, keys, 48);
    } else {
        fprintf(stderr, "bad mode '%s'\n", argv[3]);
        return 2;
    }
    ntls_server *srv = NULL;
    if (ntls_server_new(NULL, o, &srv) != 0) {
        fprintf(stderr, "server: %s\n", ntls_options_last_error(o));
        return 1;
    }
    ntls_options_unref(o);
    ntls_server_on_secure_connection(srv, on_secure);
    if (redis) {
        pthread_t t;
        pthread_create(&t, NULL, worker, NULL);
        pthread_detach(t);
        ntls_server_on_new_session(srv, on_new_session);
        ntls_server_on_resume_session(srv, on_resume_session);
    }
    if (ntls_server_listen(srv, "127.0.0.1", 0, NULL) != 0) return 1;
    int port = 0;
    for (int i = 0; i < 500 && port == 0; i++) {
        ntls_server_address(srv, NULL, 0, &port, NULL);
        if (!port) usleep(10000);
    }
    printf("port %d\n", port);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        if (strncmp(line, "rotate ", 7) == 0 && unhex(line + 7, keys, 48) == 0 &&
            ntls_server_rotate_ticket_keys(srv, keys, 48) == 0)
            printf("rotated\n");
        else
            printf("error\n");
    }
    ntls_server_close(srv, NULL);
    ntls_server_unref(srv);
    return 0;
}
