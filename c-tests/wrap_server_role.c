/* ntls_socket_wrap_fd in the server role gets what a server connection has: requestCert
 * with rejectUnauthorized (a client without a certificate is refused, one with a
 * certificate from the CA is authorized and its certificate readable), ALPN, and
 * handshakeTimeout; peers: openssl s_client with and without -cert, over a descriptor the
 * program accepted itself. */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_int secured, failed, closed;
static char alpn[32], subject[128], error_code[64];

static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    const char *a = ntls_socket_alpn_protocol(s);
    snprintf(alpn, sizeof alpn, "%s", a ? a : "");
    ntls_cert *c = NULL;
    if (ntls_socket_get_peer_certificate(s, 0, &c) == 0 && c) {
        const char *cn = ntls_cert_subject(c);
        snprintf(subject, sizeof subject, "%s", cn ? cn : "");
        ntls_cert_unref(c);
    }
    if (ntls_socket_authorized(s)) atomic_fetch_add(&secured, 1);
    ntls_socket_write(s, "wrapped server\n", 15, NULL, NULL);
    ntls_socket_end(s);
}

static void on_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)d;
    snprintf(error_code, sizeof error_code, "%s", ntls_error_code(e));
    atomic_fetch_add(&failed, 1);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s, (void)had_error, (void)d;
    atomic_fetch_add(&closed, 1);
}

static void on_data(ntls_socket *s, const uint8_t *b, size_t l, void *d) { (void)s, (void)b, (void)l, (void)d; }

static void serve_one(int lfd, ntls_options *o) {
    int fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_data(s, on_data);
    CHECK_INT(ntls_socket_wrap_fd(s, fd, o), 0);
    ntls_socket_unref(s);
}

int main(void) {
    tu_init(60);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 4) == 0);
    getsockname(lfd, (struct sockaddr *)&a, &l);
    char connect_to[32], line[512];
    snprintf(connect_to, sizeof connect_to, "127.0.0.1:%d", ntohs(a.sin_port));

    ntls_options *o = tu_server_options("server-ec");
    ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1);
    ntls_options_set_bool(o, NTLS_OPT_REQUEST_CERT, 1);
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 1);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, "smtp,h2");

    /* With a client certificate from the CA: authorized, ALPN agreed. */
    char *with_cert[] = {"openssl", "s_client", "-connect", connect_to, "-cert", (char *)tu_cert("client-cert.pem"),
                         "-key", (char *)tu_cert("client-key.pem"), "-CAfile", (char *)tu_cert("ca-cert.pem"),
                         "-alpn", "h2", "-servername", "localhost", "-quiet", "-no_ign_eof", NULL};
    tu_child c;
    tu_spawn(&c, with_cert);
    serve_one(lfd, o);
    int got = 0;
    while (!got && tu_read_line(&c, line, sizeof line, 10000)) got = strstr(line, "wrapped server") != NULL;
    CHECK(got);
    tu_wait_child(&c, 10000);
    WAIT_FOR(atomic_load(&closed) == 1, 10000);
    CHECK_INT(atomic_load(&secured), 1);
    CHECK_STR(alpn, "h2");
    CHECK(strstr(subject, "CN=test client") != NULL);
    printf("wrapped server, requestCert: s_client with a certificate authorized (%s), ALPN %s\n", subject, alpn);

    /* Without one: refused, the socket's error names why. */
    char *without[] = {"openssl", "s_client", "-connect", connect_to, "-CAfile", (char *)tu_cert("ca-cert.pem"),
                       "-servername", "localhost", "-quiet", "-no_ign_eof", NULL};
    tu_spawn(&c, without);
    serve_one(lfd, o);
    WAIT_FOR(atomic_load(&closed) == 2, 10000);
    tu_wait_child(&c, 10000);
    CHECK_INT(atomic_load(&secured), 1);
    CHECK_INT(atomic_load(&failed), 1);
    printf("wrapped server, requestCert: s_client without a certificate refused (%s)\n", error_code);
    close(lfd);
    ntls_options_unref(o);
    return 0;
}
