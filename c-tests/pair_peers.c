/* ntls_pair driven from plain blocking sockets by this thread (no loop, no thread of the
 * library), against peers nobody here wrote:
 *   - a server pair serving `openssl s_client` (verified TLS 1.3, ALPN, an echoed line, the
 *     client's close_notify seen as end, then close);
 *   - a client pair against Node's tls.createServer (64 KiB echoed byte for byte, the
 *     getters, end and close), and against Node's servers with bad certificates: the pair
 *     reports the code Node's own client reports for each;
 *   - a server pair answering plain HTTP from a raw socket: ERR_SSL_HTTP_REQUEST. */
#include "test_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    ntls_pair *p;
    int secure, ended, closed, had_error;
    char error_code[96];
    unsigned char *got;
    size_t got_len, got_cap;
    int echo;
} peer_side;

static void on_secure(ntls_pair *p, void *data) {
    (void)p;
    ((peer_side *)data)->secure = 1;
}
static void on_data(ntls_pair *p, const uint8_t *buf, size_t len, void *data) {
    peer_side *s = data;
    if (s->got_len + len > s->got_cap) {
        s->got_cap = (s->got_len + len) * 2 + 1024;
        s->got = realloc(s->got, s->got_cap);
        CHECK(s->got);
    }
    memcpy(s->got + s->got_len, buf, len);
    s->got_len += len;
    if (s->echo) CHECK(ntls_pair_write(p, buf, len) >= 0);
}
static void on_end(ntls_pair *p, void *data) {
    (void)p;
    ((peer_side *)data)->ended = 1;
}
static void on_error(ntls_pair *p, const ntls_error *err, void *data) {
    (void)p;
    snprintf(((peer_side *)data)->error_code, 96, "%s", ntls_error_code(err));
}
static void on_close(ntls_pair *p, int had_error, void *data) {
    (void)p;
    peer_side *s = data;
    s->closed = 1;
    s->had_error = had_error;
}

static int fed_end_flag;

static void wire(peer_side *s, ntls_pair *p) {
    memset(s, 0, sizeof *s);
    fed_end_flag = 0;
    s->p = p;
    ntls_pair_set_data(p, s);
    ntls_pair_on_secure(p, on_secure);
    ntls_pair_on_data(p, on_data);
    ntls_pair_on_end(p, on_end);
    ntls_pair_on_error(p, on_error);
    ntls_pair_on_close(p, on_close);
}

static void send_all(int fd, const unsigned char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return; /* the peer went away: the pair reports what it knows */
        buf += n;
        len -= (size_t)n;
    }
}

/* One turn of the program's own loop: pull → send, wait up to `wait_ms` for the socket,
 * recv → feed (dispatching whenever the pair takes less), dispatch, pull → send. */
static void turn(int fd, peer_side *s, int *fed_end, int wait_ms) {
    unsigned char buf[16384];
    int n;
    while ((n = ntls_pair_pull(s->p, buf, sizeof buf)) > 0) send_all(fd, buf, (size_t)n);
    if (s->closed) return;
    struct pollfd pfd = {fd, POLLIN, 0};
    if (poll(&pfd, 1, wait_ms) > 0) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got < 0 && errno == EINTR) return;
        if (got <= 0 && !*fed_end) {
            CHECK_INT(ntls_pair_feed_end(s->p), 0);
            *fed_end = 1;
        } else if (got <= 0) {
            tu_sleep_ms(wait_ms);
        }
        for (ssize_t off = 0; off < got && !s->closed;) {
            int taken = ntls_pair_feed(s->p, buf + off, (size_t)(got - off));
            if (taken < 0) break; /* failed: the error comes from dispatch */
            off += taken;
            ntls_pair_dispatch(s->p);
        }
    }
    ntls_pair_dispatch(s->p);
    while ((n = ntls_pair_pull(s->p, buf, sizeof buf)) > 0) send_all(fd, buf, (size_t)n);
}

/* Turns until close or `until`; more than `ms` is a failure. */
static void drive(int fd, peer_side *s, int (*until)(peer_side *), int ms) {
    for (int waited = 0; waited < ms; waited += 20) {
        if (s->closed || (until && until(s))) return;
        turn(fd, s, &fed_end_flag, 20);
    }
    fprintf(stderr, "drive: timed out\n");
    exit(1);
}

/* Turns for `ms` (or until close), the time running out being no failure. */
static void drive_for(int fd, peer_side *s, int ms) {
    for (int waited = 0; waited < ms && !s->closed; waited += 10) turn(fd, s, &fed_end_flag, 10);
}

static int tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    return fd;
}

static int tcp_listen(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t len = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(listen(fd, 4) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static ntls_pair *server_pair(void) {
    ntls_options *o = tu_server_options("server-rsa");
    ntls_pair *p;
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1), 0);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, "h2,http/1.1"), 0);
    CHECK_INT(ntls_pair_new(o, &p), 0);
    ntls_options_unref(o);
    return p;
}

static int is_secure(peer_side *s) { return s->secure; }

static void against_openssl_client(const char *version) {
    int port, lfd = tcp_listen(&port);
    char connect_to[64], line[1024];
    snprintf(connect_to, sizeof connect_to, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect_to, "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    "-servername", "localhost", "-verify_hostname", "localhost", "-verify_return_error",
                    "-alpn", "http/1.1", (char *)version, NULL};
    tu_child c;
    tu_spawn(&c, argv);
    int fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    peer_side s;
    wire(&s, server_pair());
    s.echo = 1;
    CHECK_INT(ntls_pair_start(s.p), 0);
    drive(fd, &s, is_secure, 10000);
    int tls12 = version != NULL;
    CHECK_STR(ntls_pair_get_protocol(s.p), tls12 ? "TLSv1.2" : "TLSv1.3");
    CHECK_STR(ntls_pair_alpn_protocol(s.p), "http/1.1");
    CHECK_STR(ntls_pair_servername(s.p), "localhost");
    tu_write_child(&c, "hello from openssl, through a pair\n");
    int verified = 0, tls13 = 0, alpn = 0, echoed = 0;
    for (int i = 0; i < 200 && !echoed; i++) {
        drive_for(fd, &s, 30); /* let the echo go out */
        while (tu_read_line(&c, line, sizeof line, 50)) {
            if (strstr(line, "Verify return code: 0 (ok)")) verified = 1;
            if (strstr(line, tls12 ? "New, TLSv1.2, Cipher is ECDHE-" : "New, TLSv1.3, Cipher is TLS_")) tls13 = 1;
            if (strstr(line, "ALPN protocol: http/1.1")) alpn = 1;
            if (!strcmp(line, "hello from openssl, through a pair")) {
                echoed = 1;
                break;
            }
        }
    }
    printf("openssl s_client%s: verified=%d protocol=%d alpn=%d echoed=%d\n", tls12 ? " -tls1_2" : "", verified, tls13,
           alpn, echoed);
    CHECK(verified && tls13 && alpn && echoed);
    close(c.in_fd); /* s_client sends close_notify when its input ends */
    c.in_fd = -1;
    drive(fd, &s, NULL, 10000);
    CHECK(s.ended);
    CHECK(s.closed);
    CHECK_INT(s.had_error, 0);
    tu_wait_child(&c, 5000);
    close(fd);
    close(lfd);
    ntls_pair_unref(s.p);
    free(s.got);
}

static size_t want_bytes;
static int got_all(peer_side *s) { return s->got_len >= want_bytes; }

static ntls_pair *client_pair_with(int reject_unauthorized) {
    ntls_options *o;
    ntls_pair *p;
    CHECK_INT(ntls_options_new(&o), 0);
    if (!reject_unauthorized) CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 0), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost"), 0);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, "h2,http/1.1"), 0);
    CHECK_INT(ntls_pair_new(o, &p), 0);
    ntls_options_unref(o);
    return p;
}

static ntls_pair *client_pair(void) { return client_pair_with(1); }

static void against_node_server(void) {
    char script[512], node_line[2048], v[128], key[64];
    snprintf(script, sizeof script, "%s/node_server.js", tu_peers_dir());
    char *argv[] = {"node", script, (char *)tu_cert(""), NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, node_line, sizeof node_line, 30000));
    CHECK(tu_json(node_line, "echo", v, sizeof v));

    int fd = tcp_connect(atoi(v));
    peer_side s;
    wire(&s, client_pair());
    CHECK_INT(ntls_pair_start(s.p), 0);
    size_t total = 64 * 1024;
    unsigned char *msg = malloc(total);
    CHECK(msg);
    for (size_t i = 0; i < total; i++) msg[i] = (unsigned char)(i * 31 + 7);
    CHECK(ntls_pair_write(s.p, msg, total) >= 0); /* queued until secure */
    want_bytes = total;
    drive(fd, &s, got_all, 15000);
    CHECK(s.secure);
    CHECK_INT(s.got_len, total);
    CHECK(memcmp(s.got, msg, total) == 0);
    CHECK_STR(ntls_pair_alpn_protocol(s.p), "http/1.1");
    CHECK_STR(ntls_pair_get_protocol(s.p), "TLSv1.3");
    CHECK_INT(ntls_pair_authorized(s.p), 1);
    ntls_cert *cert;
    CHECK_INT(ntls_pair_get_peer_certificate(s.p, 1, &cert), 0);
    CHECK(strstr(ntls_cert_subject(cert), "localhost") != NULL);
    ntls_cert_unref(cert);
    CHECK_INT(ntls_pair_end(s.p), 0);
    drive(fd, &s, NULL, 10000); /* Node's pipe ends its side: end, then close */
    CHECK(s.ended && s.closed);
    CHECK_INT(s.had_error, 0);
    printf("node tls server: 64 KiB echoed, end and close\n");
    close(fd);
    free(msg);
    free(s.got);
    ntls_pair_unref(s.p);

    const char *names[] = {"selfsigned", "wronghost", "expired"};
    for (int i = 0; i < 3; i++) {
        char node_code[96];
        snprintf(key, sizeof key, "codes.%s", names[i]);
        CHECK(tu_json(node_line, key, node_code, sizeof node_code));
        snprintf(key, sizeof key, "ports.%s", names[i]);
        CHECK(tu_json(node_line, key, v, sizeof v));
        fd = tcp_connect(atoi(v));
        wire(&s, client_pair());
        CHECK_INT(ntls_pair_start(s.p), 0);
        drive(fd, &s, NULL, 10000);
        printf("node %s server: node's client says %s, the pair says %s\n", names[i], node_code, s.error_code);
        CHECK_STR(s.error_code, node_code);
        CHECK_INT(s.had_error, 1);
        CHECK_INT(s.secure, 0);
        close(fd);
        ntls_pair_unref(s.p);
        free(s.got);
        /* rejectUnauthorized false: the handshake completes, authorizationError says why. */
        fd = tcp_connect(atoi(v));
        wire(&s, client_pair_with(0));
        CHECK_INT(ntls_pair_start(s.p), 0);
        drive(fd, &s, is_secure, 10000);
        CHECK_INT(ntls_pair_authorized(s.p), 0);
        CHECK_STR(ntls_pair_authorization_error(s.p), node_code);
        CHECK_INT(ntls_pair_end(s.p), 0);
        drive(fd, &s, NULL, 10000);
        CHECK_INT(s.had_error, 0);
        close(fd);
        ntls_pair_unref(s.p);
        free(s.got);
    }
    close(c.in_fd);
    c.in_fd = -1;
    tu_wait_child(&c, 5000);
}

static void plain_http_to_server_pair(void) {
    int port, lfd = tcp_listen(&port);
    int cfd = tcp_connect(port);
    int fd = accept(lfd, NULL, NULL);
    const char *req = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    send_all(cfd, (const unsigned char *)req, strlen(req));
    peer_side s;
    wire(&s, server_pair());
    CHECK_INT(ntls_pair_start(s.p), 0);
    drive(fd, &s, NULL, 5000);
    CHECK_STR(s.error_code, "ERR_SSL_HTTP_REQUEST");
    CHECK_INT(s.had_error, 1);
    printf("plain HTTP to a server pair: %s\n", s.error_code);
    close(fd);
    close(cfd);
    close(lfd);
    ntls_pair_unref(s.p);
}

int main(void) {
    tu_init(90);
    against_openssl_client(NULL);
    against_openssl_client("-tls1_2");
    against_node_server();
    plain_http_to_server_pair();
    return 0;
}
