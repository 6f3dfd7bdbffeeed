/* checkServerIdentity through the C ABI, against Node's tls server (peers/node_server.js):
 * the program's callback replaces the host-name check, runs once the chain verified
 * (never for a chain that failed), can call Node's default (ntls_check_server_identity)
 * and return its error, or return its own; the error fails the connection with the
 * callback's code and message (rejectUnauthorized), or leaves authorized 0 and Node's
 * authorizationError (code, else message). */
#include "test_util.h"

#include <unistd.h>

typedef enum { ACCEPT, DEFAULT, OWN_CODE, OWN_NO_CODE } verdict;

static struct {
    verdict how;
    atomic_int calls;
    char host[64];
    int detailed; /* the cert carried its issuer, as getPeerCertificate(true) */
} check;

static ntls_error *check_cb(const char *host, const ntls_cert *cert, void *data) {
    CHECK(data == &check);
    atomic_fetch_add(&check.calls, 1);
    snprintf(check.host, sizeof check.host, "%s", host);
    check.detailed = strstr(ntls_cert_to_json(cert), "\"issuerCertificate\"") != NULL;
    CHECK_STR(ntls_cert_subjectaltname(cert), "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    switch (check.how) {
    case ACCEPT: return NULL;
    case DEFAULT: {
        /* The default's error is the program's to read (and to return or free). */
        ntls_error *e = ntls_check_server_identity(host, cert);
        if (e) CHECK_STR(ntls_error_code(e), "ERR_TLS_CERT_ALTNAME_INVALID");
        return e;
    }
    case OWN_CODE: return ntls_error_new("MY_CODE", "not the server we pinned");
    case OWN_NO_CODE: return ntls_error_new(NULL, "nope");
    }
    return NULL;
}

static ntls_session *offer, *saved; /* the session to offer; the first one a connect saved */
static void on_session(ntls_socket *s, ntls_session *session, void *d) {
    (void)s, (void)d;
    if (!saved) {
        ntls_session_ref(session);
        saved = session;
    }
}

static struct {
    atomic_int secure, closed, errors;
    int reused;
    char code[64], message[256], reason[256], host[64];
    int authorized;
    char authorization_error[64];
} seen;

static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    seen.reused = ntls_socket_is_session_reused(s);
    seen.authorized = ntls_socket_authorized(s);
    const char *ae = ntls_socket_authorization_error(s);
    snprintf(seen.authorization_error, sizeof seen.authorization_error, "%s", ae ? ae : "");
    atomic_store(&seen.secure, 1);
    ntls_socket_end(s);
}
static void on_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)d;
    snprintf(seen.code, sizeof seen.code, "%s", ntls_error_code(e));
    snprintf(seen.message, sizeof seen.message, "%s", ntls_error_message(e));
    const char *r = ntls_error_reason(e), *h = ntls_error_host(e);
    snprintf(seen.reason, sizeof seen.reason, "%s", r ? r : "");
    snprintf(seen.host, sizeof seen.host, "%s", h ? h : "");
    atomic_fetch_add(&seen.errors, 1);
}
static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s, (void)had_error, (void)d;
    atomic_store(&seen.closed, 1);
}

static void connect_once(int port, const char *servername, verdict how, int set_check, int reject, const char *ca) {
    memset(&seen, 0, sizeof seen);
    memset(&check, 0, sizeof check);
    check.how = how;
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_session(s, on_session);
    ntls_socket_resume(s);
    ntls_options *o;
    ntls_options_new(&o);
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, servername);
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, reject);
    tu_add_pem(o, NTLS_OPT_CA, ca);
    if (set_check) CHECK_INT(ntls_options_set_check_server_identity(o, check_cb, &check), 0);
    if (offer) CHECK_INT(ntls_options_set_session(o, offer), 0);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    ntls_options_unref(o);
    WAIT_FOR(atomic_load(&seen.closed), 10000);
    ntls_socket_unref(s);
}

int main(void) {
    tu_init(60);
    CHECK_INT(ntls_options_set_check_server_identity(NULL, check_cb, NULL), NTLS_EINVAL);
    CHECK(ntls_check_server_identity(NULL, NULL) == NULL);
    CHECK(ntls_error_new("X", NULL) == NULL);
    CHECK_INT(ntls_error_free(NULL), NTLS_EINVAL);
    ntls_error *own = ntls_error_new("MY_CODE", "words");
    CHECK_STR(ntls_error_code(own), "MY_CODE");
    CHECK_STR(ntls_error_message(own), "words");
    CHECK_INT(ntls_error_status(own), NTLS_ECERT);
    CHECK_INT(ntls_error_free(own), 0);
    CHECK_INT(ntls_error_free(own), NTLS_EINVAL); /* twice */
    CHECK(ntls_error_code(own) == NULL);

    char script[512];
    snprintf(script, sizeof script, "%s/node_server.js", tu_peers_dir());
    char *argv[] = {"node", script, (char *)NODETLS_CERTS, NULL};
    tu_child node;
    tu_spawn(&node, argv);
    char line[2048], v[32];
    CHECK(tu_read_line(&node, line, sizeof line, 15000));
    CHECK(tu_json(line, "echo", v, sizeof v));
    int port = atoi(v);

    /* A callback that accepts replaces the name check: "elsewhere.example" passes. */
    connect_once(port, "elsewhere.example", ACCEPT, 1, 1, "ca-cert.pem");
    CHECK_INT(atomic_load(&seen.secure), 1);
    CHECK_INT(seen.authorized, 1);
    CHECK_INT(atomic_load(&check.calls), 1);
    CHECK_STR(check.host, "elsewhere.example");
    CHECK_INT(check.detailed, 1);
    printf("accepting callback: secure, authorized, called once with the detailed certificate\n");

    /* Without a callback the same name fails with Node's default. */
    connect_once(port, "elsewhere.example", ACCEPT, 0, 1, "ca-cert.pem");
    CHECK_STR(seen.code, "ERR_TLS_CERT_ALTNAME_INVALID");

    /* The callback returns Node's default verdict: the same error, reason and host. */
    connect_once(port, "elsewhere.example", DEFAULT, 1, 1, "ca-cert.pem");
    CHECK_INT(atomic_load(&seen.secure), 0);
    CHECK_INT(atomic_load(&seen.errors), 1);
    CHECK_STR(seen.code, "ERR_TLS_CERT_ALTNAME_INVALID");
    CHECK_STR(seen.reason, "Host: elsewhere.example. is not in the cert's altnames: DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    CHECK_STR(seen.host, "elsewhere.example");
    printf("default through the callback: %s (%s)\n", seen.code, seen.message);
    /* ... and passes when the name matches. */
    connect_once(port, "localhost", DEFAULT, 1, 1, "ca-cert.pem");
    CHECK_INT(seen.authorized, 1);

    /* The program's own error: its code and words reach the error event (Node's destroy(err)). */
    connect_once(port, "localhost", OWN_CODE, 1, 1, "ca-cert.pem");
    CHECK_INT(atomic_load(&seen.secure), 0);
    CHECK_STR(seen.code, "MY_CODE");
    CHECK_STR(seen.message, "not the server we pinned");
    /* Node: new Error('nope') has no code. */
    connect_once(port, "localhost", OWN_NO_CODE, 1, 1, "ca-cert.pem");
    CHECK_STR(seen.code, "");
    CHECK_STR(seen.message, "nope");
    printf("own errors: MY_CODE / code-less 'nope' fail the connection\n");

    /* rejectUnauthorized false: secure, unauthorized, authorizationError = code || message. */
    connect_once(port, "localhost", OWN_CODE, 1, 0, "ca-cert.pem");
    CHECK_INT(seen.authorized, 0);
    CHECK_STR(seen.authorization_error, "MY_CODE");
    CHECK_INT(atomic_load(&check.calls), 1);
    connect_once(port, "localhost", OWN_NO_CODE, 1, 0, "ca-cert.pem");
    CHECK_STR(seen.authorization_error, "nope");
    printf("rejectUnauthorized false: authorizationError MY_CODE, then 'nope'\n");

    /* A chain that does not verify: the callback is never asked (Node checks the chain first). */
    connect_once(port, "localhost", ACCEPT, 1, 1, "ca2-cert.pem");
    CHECK_INT(atomic_load(&check.calls), 0);
    CHECK_INT(atomic_load(&seen.errors), 1);
    connect_once(port, "localhost", ACCEPT, 1, 0, "ca2-cert.pem");
    CHECK_INT(atomic_load(&check.calls), 0);
    CHECK_INT(seen.authorized, 0);
    printf("unverified chain (%s): callback not called\n", seen.authorization_error);

    /* A resumed session is not judged again: Node calls no checkServerIdentity then. */
    for (int reject = 0; reject <= 1; reject++) {
        saved = NULL;
        connect_once(port, "localhost", reject ? ACCEPT : OWN_CODE, 1, reject, "ca-cert.pem");
        CHECK_INT(atomic_load(&check.calls), 1);
        CHECK(saved != NULL);
        offer = saved;
        connect_once(port, "localhost", ACCEPT, 1, reject, "ca-cert.pem");
        CHECK_INT(seen.reused, 1);
        CHECK_INT(atomic_load(&check.calls), 0);
        CHECK_INT(atomic_load(&seen.secure), 1);
        ntls_session_unref(offer);
        offer = NULL;
    }
    printf("resumed sessions: callback not called (rejectUnauthorized false and true)\n");

    close(node.in_fd);
    tu_wait_child(&node, 5000);
    printf("checkServerIdentity ok\n");
    return 0;
}
