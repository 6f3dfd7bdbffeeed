/* Where trust comes from, as Node reads it (each answer checked against Node 20):
 * - NODE_EXTRA_CA_CERTS extends the default store (ca unset), read once at first use;
 * - an explicitly empty `ca` (an empty buffer, Node's `ca: []`) trusts nothing, on a client
 *   (UNABLE_TO_VERIFY_LEAF_SIGNATURE) and on a server checking client certificates.
 * With the argument "unreadable", NODE_EXTRA_CA_CERTS names a file that does not exist:
 * nothing is added (Node warns and goes on), nothing is printed, and the default store and
 * explicit CAs still work. */
#include "client_util.h"

static char server_auth[96];
static atomic_int server_secure;
static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    const char *e = ntls_socket_authorization_error(s);
    snprintf(server_auth, sizeof server_auth, "%d %s", ntls_socket_authorized(s), e ? e : "-");
    atomic_fetch_add(&server_secure, 1);
    ntls_socket_resume(s);
}

/* A client to 127.0.0.1:port named localhost; `ca`: NULL unset, "" empty, else a file. */
static void client(tu_client *c, int port, const char *ca, int reject, int with_cert) {
    memset(c, 0, sizeof *c); /* nothing to send: the client ends once secure */
    ntls_options *o;
    ntls_options_new(&o);
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, reject);
    if (ca && !*ca) CHECK_INT(ntls_options_set_bytes(o, NTLS_OPT_CA, NULL, 0), 0);
    else if (ca) tu_add_pem(o, NTLS_OPT_CA, ca);
    if (with_cert) {
        tu_add_pem(o, NTLS_OPT_KEY, "client-key.pem");
        tu_add_pem(o, NTLS_OPT_CERT, "client-cert.pem");
    }
    CHECK_INT(ntls_socket_new(NULL, &c->s), 0);
    tu_client_watch(c);
    int rc = ntls_socket_connect(c->s, o);
    if (rc) fprintf(stderr, "connect: %s\n", ntls_options_last_error(o));
    CHECK_INT(rc, 0);
    ntls_options_unref(o);
    tu_client_wait_closed(c, 10000);
}

static int unreadable_extra_file(void) {
    setenv("NODE_EXTRA_CA_CERTS", "/nonexistent/extra-ca.pem", 1);
    tu_init(60);
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, on_secure);
    int port = tu_listen(srv);
    tu_client c;
    client(&c, port, NULL, 1, 0); /* default store only: our test CA is not in it */
    CHECK_STR(c.error_code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    tu_client_free(&c);
    client(&c, port, "ca-cert.pem", 1, 0); /* an explicit ca is unaffected */
    CHECK_INT(atomic_load(&c.secure), 1);
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    tu_client_free(&c);
    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    printf("an unreadable NODE_EXTRA_CA_CERTS adds nothing and breaks nothing\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "unreadable") == 0) return unreadable_extra_file();
    /* Before the library reads it: the first context built reads the file. */
    setenv("NODE_EXTRA_CA_CERTS", tu_cert("ca-cert.pem"), 1);
    tu_init(60);
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_bool(so, NTLS_OPT_REQUEST_CERT, 1);
    ntls_options_set_bool(so, NTLS_OPT_REJECT_UNAUTHORIZED, 0);
    CHECK_INT(ntls_options_set_bytes(so, NTLS_OPT_CA, NULL, 0), 0); /* trusts no client */
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, on_secure);
    int port = tu_listen(srv);
    tu_client c;

    client(&c, port, NULL, 1, 0); /* default store + NODE_EXTRA_CA_CERTS */
    printf("ca unset, NODE_EXTRA_CA_CERTS: secure=%d authorized=%d\n", c.secure, ntls_socket_authorized(c.s));
    CHECK_INT(atomic_load(&c.secure), 1);
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    WAIT_FOR(atomic_load(&server_secure) == 1, 5000);
    CHECK_STR(server_auth, "0 UNABLE_TO_GET_ISSUER_CERT"); /* sent no certificate */
    tu_client_free(&c);

    client(&c, port, "", 1, 0); /* ca: [] */
    printf("ca []: error %s\n", c.error_code);
    CHECK_STR(c.error_code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    tu_client_free(&c);

    client(&c, port, "", 0, 1); /* ca: [], rejectUnauthorized false, with a client cert */
    printf("ca [] without reject: authorized=%d %s\n", ntls_socket_authorized(c.s),
           ntls_socket_authorization_error(c.s));
    CHECK_INT(atomic_load(&c.secure), 1);
    CHECK_INT(ntls_socket_authorized(c.s), 0);
    CHECK_STR(ntls_socket_authorization_error(c.s), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    WAIT_FOR(atomic_load(&server_secure) == 2, 5000);
    printf("server with ca []: %s\n", server_auth);
    CHECK_STR(server_auth, "0 UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    tu_client_free(&c);

    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    printf("trust comes from where Node takes it\n");
    return 0;
}
