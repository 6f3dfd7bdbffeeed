/* Certificate failures get Node's codes: rejected by default, accepted but unauthorized
 * with rejectUnauthorized false. */
#include "test_util.h"

typedef struct {
    atomic_int secure, closed, had_error;
    char error_code[96];
    char error_host[96], error_reason[160], error_cert_subject[160];
    char auth_error[96];
    int authorized;
} outcome;

static void on_secure(ntls_socket *s, void *d) {
    outcome *r = d;
    r->authorized = ntls_socket_authorized(s);
    const char *ae = ntls_socket_authorization_error(s);
    snprintf(r->auth_error, sizeof r->auth_error, "%s", ae ? ae : "");
    atomic_store(&r->secure, 1);
    ntls_socket_resume(s); /* no data listener: resume, or the peer's close is never read */
    ntls_socket_end(s);
}

static void on_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s;
    outcome *r = d;
    snprintf(r->error_code, sizeof r->error_code, "%s", ntls_error_code(err));
    CHECK(ntls_error_status(err) == NTLS_ECERT);
    /* Node's identity error carries err.host, err.reason and err.cert; others do not. */
    const char *host = ntls_error_host(err), *reason = ntls_error_reason(err);
    snprintf(r->error_host, sizeof r->error_host, "%s", host ? host : "");
    snprintf(r->error_reason, sizeof r->error_reason, "%s", reason ? reason : "");
    ntls_cert *cert = NULL;
    if (ntls_error_cert(err, &cert) == 0) {
        snprintf(r->error_cert_subject, sizeof r->error_cert_subject, "%s", ntls_cert_subject(cert));
        ntls_cert_unref(cert);
    }
    CHECK(strlen(ntls_error_message(err)) > 0);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    outcome *r = d;
    atomic_store(&r->had_error, had_error);
    atomic_store(&r->closed, 1);
}

static void attempt(int port, const char *ca, const char *host, const char *servername, int reject, outcome *r) {
    memset(r, 0, sizeof *r);
    ntls_options *o;
    ntls_options_new(&o);
    tu_add_pem(o, NTLS_OPT_CA, ca);
    ntls_options_set_string(o, NTLS_OPT_HOST, host);
    if (servername) ntls_options_set_string(o, NTLS_OPT_SERVERNAME, servername);
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, reject);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_set_data(s, r);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_close(s, on_close);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&r->closed), 10000);
    ntls_socket_unref(s);
    ntls_options_unref(o);
}

static void expect(const char *server_cert, const char *ca, const char *host, const char *servername,
                   const char *code) {
    tu_echo_server e;
    ntls_options *so = tu_server_options(server_cert);
    tu_echo_start(&e, NULL, so);
    outcome r;

    attempt(e.port, ca, host, servername, 1, &r);
    CHECK_INT(atomic_load(&r.secure), 0);
    CHECK_INT(atomic_load(&r.had_error), 1);
    CHECK_STR(r.error_code, code);
    WAIT_FOR(atomic_load(&e.client_errors) == 1, 5000); /* the server saw the client's alert */

    attempt(e.port, ca, host, servername, 0, &r);
    CHECK_INT(atomic_load(&r.secure), 1);
    CHECK_INT(r.authorized, 0);
    CHECK_STR(r.auth_error, code);
    CHECK_INT(atomic_load(&r.had_error), 0);
    printf("%-12s -> %s\n", server_cert, code);
    tu_echo_stop(&e);
    ntls_options_unref(so);
}

int main(void) {
    tu_init(60);
    expect("selfsigned", "ca-cert.pem", "localhost", NULL, "DEPTH_ZERO_SELF_SIGNED_CERT");
    expect("wronghost", "ca-cert.pem", "127.0.0.1", "localhost", "ERR_TLS_CERT_ALTNAME_INVALID");
    expect("expired", "ca-cert.pem", "localhost", NULL, "CERT_HAS_EXPIRED");
    expect("server-ec", "selfsigned-cert.pem", "localhost", NULL, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    expect("server-chained", "ca-cert.pem", "localhost", NULL, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");

    /* A self-signed server trusted through `ca` (Node's usual pattern) is authorized. */
    {
        tu_echo_server e;
        ntls_options *so = tu_server_options("selfsigned");
        tu_echo_start(&e, NULL, so);
        outcome r;
        attempt(e.port, "selfsigned-cert.pem", "localhost", NULL, 1, &r);
        CHECK_INT(atomic_load(&r.secure), 1);
        CHECK_INT(r.authorized, 1);
        attempt(e.port, "selfsigned-cert.pem", "127.0.0.1", "wrong.example.com", 1, &r);
        CHECK_STR(r.error_code, "ERR_TLS_CERT_ALTNAME_INVALID");
        printf("identity error: host %s, reason \"%s\", cert %s\n", r.error_host, r.error_reason,
               r.error_cert_subject);
        CHECK_STR(r.error_host, "wrong.example.com");
        CHECK_STR(r.error_reason, "Host: wrong.example.com. is not in the cert's altnames: DNS:localhost, "
                                  "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
        CHECK(strstr(r.error_cert_subject, "CN=localhost") != NULL);
        attempt(e.port, "ca-cert.pem", "localhost", NULL, 1, &r); /* not an identity error */
        CHECK_STR(r.error_code, "DEPTH_ZERO_SELF_SIGNED_CERT");
        CHECK_STR(r.error_host, "");
        CHECK_STR(r.error_cert_subject, "");
        tu_echo_stop(&e);
        ntls_options_unref(so);
    }

    /* The whole chain (leaf + intermediate) verifies. */
    tu_echo_server e;
    ntls_options *so;
    ntls_options_new(&so);
    tu_add_pem(so, NTLS_OPT_KEY, "server-chained-key.pem");
    tu_add_pem(so, NTLS_OPT_CERT, "server-chained-chain.pem");
    tu_echo_start(&e, NULL, so);
    outcome r;
    attempt(e.port, "ca-cert.pem", "localhost", NULL, 1, &r);
    CHECK_INT(atomic_load(&r.secure), 1);
    CHECK_INT(r.authorized, 1);
    CHECK_STR(r.auth_error, "");
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
