/* requestCert/rejectUnauthorized on the server: clients with a CA-signed certificate are
 * authorized, clients without one are rejected when asked, kept but marked when not. */
#include "client_util.h"

typedef struct {
    atomic_int secure;
    int authorized;
    char auth_error[96];
    char peer_cn[96];
} server_view;

static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv;
    server_view *v = d;
    v->authorized = ntls_socket_authorized(s);
    const char *ae = ntls_socket_authorization_error(s);
    snprintf(v->auth_error, sizeof v->auth_error, "%s", ae ? ae : "");
    ntls_cert *c = NULL;
    v->peer_cn[0] = 0;
    if (ntls_socket_get_peer_certificate(s, 0, &c) == 0) {
        snprintf(v->peer_cn, sizeof v->peer_cn, "%s", ntls_cert_subject(c));
        ntls_cert_unref(c);
    }
    atomic_fetch_add(&v->secure, 1);
    ntls_socket_resume(s);
    ntls_socket_end(s);
}

static atomic_int client_errors;
static void on_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *d) {
    (void)srv, (void)s, (void)d, (void)err;
    atomic_fetch_add(&client_errors, 1);
}

static const char *client_key, *client_cert;
static void with_cert(ntls_options *o) {
    if (client_key) tu_add_pem(o, NTLS_OPT_KEY, client_key);
    if (client_cert) tu_add_pem(o, NTLS_OPT_CERT, client_cert);
}

static ntls_server *start(int reject, server_view *v, int *port) {
    ntls_options *so = tu_server_options("server-ec");
    tu_add_pem(so, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_bool(so, NTLS_OPT_REQUEST_CERT, 1);
    ntls_options_set_bool(so, NTLS_OPT_REJECT_UNAUTHORIZED, reject);
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, on_secure);
    ntls_server_on_tls_client_error(srv, on_client_error);
    *port = tu_listen(srv);
    ntls_server_set_data(srv, v);
    ntls_options_unref(so);
    return srv;
}

static void connect_as(const char *key, const char *cert, int port, tu_client *c) {
    client_key = key;
    client_cert = cert;
    c->send_on_secure = NULL;
    c->hold = 0;
    tu_client_connect(c, NULL, port, with_cert);
    tu_client_wait_closed(c, 10000);
    tu_client_free(c);
}

int main(void) {
    tu_init(60);
    server_view v;
    memset(&v, 0, sizeof v);
    int port;
    ntls_server *srv = start(1, &v, &port);
    tu_client c;

    connect_as("client-key.pem", "client-cert.pem", port, &c);
    CHECK_INT(atomic_load(&c.had_error), 0);
    WAIT_FOR(atomic_load(&v.secure) == 1, 5000);
    CHECK_INT(v.authorized, 1);
    CHECK(strstr(v.peer_cn, "CN=test client") != NULL);

    /* Refused after the TLS 1.3 client was secure: as in Node, an error event (the alert),
     * then end and a clean close (had_error 0). */
    connect_as(NULL, NULL, port, &c); /* no certificate: refused */
    CHECK_INT(atomic_load(&c.errors), 1);
    CHECK_INT(atomic_load(&c.had_error), 0);
    printf("no client cert, rejectUnauthorized: client error %s\n", c.error_code);
    CHECK(strstr(c.error_code, "ERR_SSL_") == c.error_code);
    connect_as("selfsigned-key.pem", "selfsigned-cert.pem", port, &c); /* untrusted: refused */
    CHECK_INT(atomic_load(&c.errors), 1);
    WAIT_FOR(atomic_load(&client_errors) == 2, 5000);
    CHECK_INT(atomic_load(&v.secure), 1);
    tu_close_server(srv);
    ntls_server_unref(srv);

    memset(&v, 0, sizeof v);
    srv = start(0, &v, &port); /* kept, but marked */
    connect_as(NULL, NULL, port, &c);
    CHECK_INT(atomic_load(&c.had_error), 0);
    WAIT_FOR(atomic_load(&v.secure) == 1, 5000);
    CHECK_INT(v.authorized, 0);
    CHECK_STR(v.auth_error, "UNABLE_TO_GET_ISSUER_CERT");
    connect_as("selfsigned-key.pem", "selfsigned-cert.pem", port, &c);
    WAIT_FOR(atomic_load(&v.secure) == 2, 5000);
    CHECK_INT(v.authorized, 0);
    CHECK_STR(v.auth_error, "DEPTH_ZERO_SELF_SIGNED_CERT");
    connect_as("client-key.pem", "client-cert.pem", port, &c);
    WAIT_FOR(atomic_load(&v.secure) == 3, 5000);
    CHECK_INT(v.authorized, 1);
    tu_close_server(srv);
    ntls_server_unref(srv);

    /* A real peer: openssl s_client presenting the client certificate. */
    memset(&v, 0, sizeof v);
    srv = start(1, &v, &port);
    char connect[64], line[512];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem"), "-cert",
                    (char *)tu_cert("client-cert.pem"), "-key", (char *)tu_cert("client-key.pem"), "-quiet", NULL};
    tu_child ch;
    tu_spawn(&ch, argv);
    WAIT_FOR(atomic_load(&v.secure) == 1, 10000);
    CHECK_INT(v.authorized, 1);
    while (tu_read_line(&ch, line, sizeof line, 2000)) {
    }
    tu_wait_child(&ch, 5000);
    tu_close_server(srv);
    ntls_server_unref(srv);
    printf("client certificates: authorized, rejected, marked as expected\n");
    return 0;
}
