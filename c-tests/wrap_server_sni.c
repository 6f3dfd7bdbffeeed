/* ntls_socket_wrap_fd in the server role with ntls_socket_on_sni and
 * ntls_socket_on_ocsp_request: the server's ClientHello phase serving a socket the program
 * accepted itself. Peers: Node's tls.connect (peers/sni_client.js) and openssl s_client.
 *   - the SNICallback gets the ClientHello's name and its context serves the handshake
 *     (answered at once and from another thread); a client without a name is not asked;
 *   - the chosen context's `ca` decides about client certificates (requestCert with
 *     rejectUnauthorized 1 and 0): CA-B's client is trusted on b.example only, CA-A's
 *     everywhere else;
 *   - a failed answer drops the connection (the client sees ECONNRESET) and the socket's
 *     error is ERR_TLS_SNI_CALLBACK; an answer after the client vanished, and one after
 *     destroy(), are accepted and change nothing; a second answer is NTLS_EALREADY;
 *   - OCSPRequest on the wrapped socket: stapled to Node's requestOCSP, failed;
 *   - NULL and closed handles. */
#include "test_util.h"

#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    atomic_int secure, errors, closed, had_error;
    int authorized;
    char auth_error[96], error_code[64], error_message[160], own_cn[96], peer_cn[96], servername[96];
} view;

static view v;
static ntls_context *ctx_b;
static atomic_int sni_asked, sni_async, ocsp_asked, ocsp_fail;
static char sni_name[96];
static _Atomic(ntls_request *) held;
static uint8_t *resp, *leaf, *ca;
static size_t resp_len, leaf_len, ca_len;

static void subject_cn(const ntls_cert *c, char *out, size_t len) {
    const char *cn = c ? strstr(ntls_cert_subject(c), "CN=") : NULL;
    snprintf(out, len, "%s", cn ? cn + 3 : "(none)");
}

static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    v.authorized = ntls_socket_authorized(s);
    const char *ae = ntls_socket_authorization_error(s);
    snprintf(v.auth_error, sizeof v.auth_error, "%s", ae ? ae : "(null)");
    const char *sn = ntls_socket_servername(s);
    snprintf(v.servername, sizeof v.servername, "%s", sn ? sn : "(null)");
    ntls_cert *c = NULL;
    if (ntls_socket_get_certificate(s, &c) == 0) {
        subject_cn(c, v.own_cn, sizeof v.own_cn);
        ntls_cert_unref(c);
    }
    c = NULL;
    snprintf(v.peer_cn, sizeof v.peer_cn, "(none)");
    if (ntls_socket_get_peer_certificate(s, 0, &c) == 0) {
        subject_cn(c, v.peer_cn, sizeof v.peer_cn);
        ntls_cert_unref(c);
    }
    atomic_fetch_add(&v.secure, 1);
    /* A refused peer must never see this line. */
    ntls_socket_write(s, "SECURE-OK\n", 10, NULL, NULL);
    ntls_socket_end(s);
}

static void on_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)d;
    snprintf(v.error_code, sizeof v.error_code, "%s", ntls_error_code(e));
    snprintf(v.error_message, sizeof v.error_message, "%s", ntls_error_message(e));
    atomic_fetch_add(&v.errors, 1);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s, (void)d;
    atomic_store(&v.had_error, had_error);
    atomic_fetch_add(&v.closed, 1);
}

static void on_data(ntls_socket *s, const uint8_t *b, size_t l, void *d) { (void)s, (void)b, (void)l, (void)d; }

static void *answer_b_later(void *req) {
    tu_sleep_ms(20);
    CHECK_INT(ntls_request_sni_done(req, ctx_b), 0);
    CHECK_INT(ntls_request_sni_done(req, NULL), NTLS_EALREADY);
    return NULL;
}

/* b.example: CA-B's context, at once or (every second time) from another thread;
 * fail.example: a failure; late.example: held for main to answer; anything else: the
 * socket's own context. */
static void sni_callback(ntls_socket *s, const char *name, ntls_request *req, void *d) {
    (void)s, (void)d;
    CHECK(name != NULL); /* never asked for a client that sent no name */
    snprintf(sni_name, sizeof sni_name, "%s", name);
    atomic_fetch_add(&sni_asked, 1);
    if (strcmp(name, "b.example") == 0) {
        if (atomic_fetch_add(&sni_async, 1) % 2 == 0) {
            CHECK_INT(ntls_request_sni_done(req, ctx_b), 0);
            return;
        }
        pthread_t t;
        CHECK_INT(pthread_create(&t, NULL, answer_b_later, req), 0);
        pthread_detach(t);
    } else if (strcmp(name, "fail.example") == 0) {
        CHECK_INT(ntls_request_fail(req, "no certificate for fail.example"), 0);
    } else if (strcmp(name, "late.example") == 0) {
        atomic_store(&held, req);
    } else {
        CHECK_INT(ntls_request_sni_done(req, NULL), 0);
    }
}

static void on_ocsp_request(ntls_socket *s, const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                            size_t issuer_len, ntls_request *req, void *d) {
    (void)s, (void)d;
    CHECK(cert_len == leaf_len && memcmp(cert, leaf, leaf_len) == 0);
    CHECK(issuer && issuer_len == ca_len && memcmp(issuer, ca, ca_len) == 0);
    atomic_fetch_add(&ocsp_asked, 1);
    if (atomic_load(&ocsp_fail)) CHECK_INT(ntls_request_fail(req, "no OCSP response today"), 0);
    else CHECK_INT(ntls_request_ocsp_done(req, resp, resp_len), 0);
}

static int lfd, port;
static int request_cert, reject = 1, with_ocsp;

/* Accepts one connection and wraps it in the server role; returns the socket (owned). */
static ntls_socket *serve_one(void) {
    int fd = accept(lfd, NULL, NULL);
    CHECK(fd >= 0);
    ntls_options *o = tu_server_options("server-ec");
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_REQUEST_CERT, request_cert), 0);
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, reject), 0);
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_data(s, on_data);
    CHECK_INT(ntls_socket_on_sni(s, sni_callback), 0);
    if (with_ocsp) CHECK_INT(ntls_socket_on_ocsp_request(s, on_ocsp_request), 0);
    CHECK_INT(ntls_socket_wrap_fd(s, fd, o), 0);
    ntls_options_unref(o);
    return s;
}

static void reset(void) {
    memset(&v, 0, sizeof v);
    sni_name[0] = 0;
}

typedef struct {
    int secure, ocsp_events;
    char served[96], data[64], error[64], ocsp[8192];
} node_view;

/* Node's client: spawns it, serves its connection, returns the JSON line's fields. */
static void node_peer(const char *servername, const char *client, int ocsp, int vanish_ms, node_view *n,
                      ntls_socket **kept) {
    char script[512], p[16], vms[16], line[10000];
    snprintf(script, sizeof script, "%s/sni_client.js", tu_peers_dir());
    snprintf(p, sizeof p, "%d", port);
    snprintf(vms, sizeof vms, "%d", vanish_ms);
    char *argv[] = {"node", script, (char *)tu_cert(""), p, (char *)(servername ? servername : "-"),
                    (char *)(client ? client : "-"), ocsp ? "1" : "0", vms, NULL};
    tu_child c;
    tu_spawn(&c, argv);
    ntls_socket *s = serve_one();
    CHECK(tu_read_line(&c, line, sizeof line, 20000));
    CHECK_INT(tu_wait_child(&c, 5000), 0);
    char secure[16] = "", events[16] = "0";
    tu_json(line, "secure", secure, sizeof secure);
    n->secure = strcmp(secure, "true") == 0;
    if (!tu_json(line, "served", n->served, sizeof n->served)) snprintf(n->served, sizeof n->served, "(none)");
    if (!tu_json(line, "data", n->data, sizeof n->data)) n->data[0] = 0;
    if (!tu_json(line, "error", n->error, sizeof n->error)) snprintf(n->error, sizeof n->error, "null");
    if (!tu_json(line, "ocsp", n->ocsp, sizeof n->ocsp)) snprintf(n->ocsp, sizeof n->ocsp, "null");
    tu_json(line, "ocsp_events", events, sizeof events);
    n->ocsp_events = atoi(events);
    if (kept) {
        *kept = s;
        return;
    }
    WAIT_FOR(atomic_load(&v.closed) == 1, 10000);
    ntls_socket_unref(s);
}

/* openssl s_client with -servername (NULL: -noservername) and an optional client
 * certificate; returns 1 if it got the server's line. */
static int openssl_peer(const char *servername, const char *client) {
    char connect[64], cert[64], key[64], line[512];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    snprintf(cert, sizeof cert, "%s-cert.pem", client ? client : "client");
    snprintf(key, sizeof key, "%s-key.pem", client ? client : "client");
    char *argv[16];
    int i = 0;
    argv[i++] = "openssl", argv[i++] = "s_client", argv[i++] = "-connect", argv[i++] = connect;
    if (servername) argv[i++] = "-servername", argv[i++] = (char *)servername;
    else argv[i++] = "-noservername";
    if (client) argv[i++] = "-cert", argv[i++] = (char *)tu_cert(cert), argv[i++] = "-key", argv[i++] = (char *)tu_cert(key);
    argv[i++] = "-quiet", argv[i++] = "-no_ign_eof", argv[i] = NULL;
    tu_child c;
    tu_spawn(&c, argv);
    ntls_socket *s = serve_one();
    int got = 0;
    while (tu_read_line(&c, line, sizeof line, 5000)) got |= strstr(line, "SECURE-OK") != NULL;
    tu_wait_child(&c, 5000);
    WAIT_FOR(atomic_load(&v.closed) == 1, 10000);
    ntls_socket_unref(s);
    return got;
}

static int failures;
static void expect(int cond, const char *label, const char *what) {
    if (!cond) {
        fprintf(stderr, "FAIL %s: %s\n", label, what);
        failures++;
    }
}

/* One client-certificate case through Node: whether the wrapped socket accepted it. */
static int auth_case(const char *client, const char *sni, const char *label) {
    node_view n;
    reset();
    node_peer(sni, client, 0, 0, &n, NULL);
    int accepted = atomic_load(&v.secure) == 1;
    printf("  %-40s -> %s (served %s, peer %s, authorized %d, authorizationError %s, client error %s)\n", label,
           accepted ? "accepted" : "refused", n.served, accepted ? v.peer_cn : "-", accepted ? v.authorized : -1,
           accepted ? v.auth_error : "-", n.error);
    expect(accepted == (strstr(n.data, "SECURE-OK") != NULL), label,
           "the client's data does not match the server's decision");
    if (strcmp(n.served, "(none)") != 0 && strcmp(n.served, "null") != 0)
        expect(strcmp(n.served, sni ? "wrong.example.com" : "localhost") == 0, label, "the wrong context served");
    if (!accepted) expect(atomic_load(&v.errors) == 1, label, "refused without an error event");
    return accepted;
}

int main(void) {
    tu_init(120);
    resp = (uint8_t *)tu_read_file(tu_cert("server-ec-ocsp.der"), &resp_len);
    leaf = (uint8_t *)tu_read_file(tu_cert("server-ec-cert.der"), &leaf_len);
    ca = (uint8_t *)tu_read_file(tu_cert("ca-cert.der"), &ca_len);
    ntls_options *bo = tu_server_options("wronghost");
    tu_add_pem(bo, NTLS_OPT_CA, "ca2-cert.pem");
    CHECK_INT(ntls_context_new(bo, &ctx_b), 0);
    ntls_options_unref(bo);
    lfd = tu_raw_listen(&port);
    node_view n;

    /* NULL and closed handles; a cleared callback leaves a plain wrapped server. */
    CHECK_INT(ntls_socket_on_sni(NULL, sni_callback), NTLS_EINVAL);
    CHECK_INT(ntls_socket_on_ocsp_request(NULL, on_ocsp_request), NTLS_EINVAL);
    CHECK_INT(ntls_request_sni_done(NULL, ctx_b), NTLS_EINVAL);
    ntls_socket *gone;
    CHECK_INT(ntls_socket_new(NULL, &gone), 0);
    CHECK_INT(ntls_socket_on_sni(gone, NULL), 0);
    CHECK_INT(ntls_socket_destroy(gone), 0);
    WAIT_FOR(ntls_socket_on_sni(gone, sni_callback) == NTLS_ECLOSED, 5000);
    CHECK_INT(ntls_socket_on_ocsp_request(gone, on_ocsp_request), NTLS_ECLOSED);
    ntls_socket_unref(gone);
    printf("NULL and closed sockets: NTLS_EINVAL, NTLS_ECLOSED\n");

    /* The SNICallback picks the context, at once and from another thread. */
    for (int i = 0; i < 2; i++) {
        reset();
        node_peer("b.example", NULL, 0, 0, &n, NULL);
        CHECK_STR(sni_name, "b.example");
        CHECK_STR(n.served, "wrong.example.com");
        CHECK_STR(v.own_cn, "wrong.example.com");
        CHECK_STR(v.servername, "b.example");
        CHECK(strstr(n.data, "SECURE-OK") != NULL);
        CHECK_INT(atomic_load(&v.had_error), 0);
    }
    reset();
    node_peer("other.example", NULL, 0, 0, &n, NULL);
    CHECK_STR(sni_name, "other.example");
    CHECK_STR(n.served, "localhost");
    CHECK_INT(atomic_load(&sni_asked), 3);
    /* No name: not asked, the socket's own context. */
    reset();
    node_peer(NULL, NULL, 0, 0, &n, NULL);
    CHECK_INT(atomic_load(&sni_asked), 3);
    CHECK_STR(n.served, "localhost");
    CHECK_STR(v.own_cn, "localhost");
    CHECK(strstr(n.data, "SECURE-OK") != NULL);
    printf("node: b.example served %s (sync and async answer), other.example %s, no name %s, unasked\n",
           "wrong.example.com", "localhost", n.served);

    reset();
    CHECK(openssl_peer("b.example", NULL));
    CHECK_STR(v.own_cn, "wrong.example.com");
    reset();
    CHECK(openssl_peer(NULL, NULL));
    CHECK_STR(v.own_cn, "localhost");
    CHECK_INT(atomic_load(&sni_asked), 4);
    printf("openssl s_client: -servername b.example served %s, -noservername served localhost, unasked\n",
           "wrong.example.com");

    /* A failed answer: dropped before any TLS reply, as a server's. */
    reset();
    node_peer("fail.example", NULL, 0, 0, &n, NULL);
    printf("failed SNICallback: client %s, socket error %s (%s), had_error %d\n", n.error, v.error_code,
           v.error_message, atomic_load(&v.had_error));
    CHECK_STR(n.error, "ECONNRESET");
    CHECK(!n.secure);
    CHECK_STR(v.error_code, "ERR_TLS_SNI_CALLBACK");
    CHECK(strstr(v.error_message, "no certificate for fail.example") != NULL);
    CHECK_INT(atomic_load(&v.had_error), 1);
    CHECK_INT(atomic_load(&v.secure), 0);

    /* The client vanishes while the answer is pending: the socket fails at once (ECONNRESET,
     * as Node's server reports it), and the late answer is then accepted and ignored. */
    reset();
    ntls_socket *s = NULL;
    node_peer("late.example", NULL, 0, 300, &n, &s);
    CHECK(!n.secure);
    ntls_request *req = atomic_exchange(&held, NULL);
    CHECK(req != NULL);
    WAIT_FOR(atomic_load(&v.closed) == 1, 10000);
    CHECK_INT(ntls_request_sni_done(req, ctx_b), 0);
    CHECK_INT(ntls_request_sni_done(req, NULL), NTLS_EALREADY);
    printf("client vanished before the answer: socket error %s, had_error %d; late answer accepted\n",
           v.error_code, atomic_load(&v.had_error));
    CHECK_INT(atomic_load(&v.errors), 1);
    CHECK_STR(v.error_code, "ECONNRESET");
    CHECK_INT(atomic_load(&v.had_error), 1);
    ntls_socket_unref(s);

    /* destroy() while the answer is pending: closed quietly, the answer after it ignored. */
    reset();
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    /* A client that stays (s_client waits for the ServerHello), so the destroy is ours. */
    char *stays[] = {"openssl", "s_client", "-connect", connect, "-servername", "late.example", NULL};
    tu_child waiting;
    tu_spawn(&waiting, stays);
    s = serve_one();
    WAIT_FOR(atomic_load(&held) != NULL, 5000);
    req = atomic_exchange(&held, NULL);
    CHECK_INT(ntls_socket_destroy(s), 0);
    WAIT_FOR(atomic_load(&v.closed) == 1, 10000);
    CHECK_INT(atomic_load(&v.errors), 0);
    CHECK_INT(atomic_load(&v.had_error), 0);
    CHECK_INT(ntls_request_fail(req, "too late"), 0);
    ntls_socket_unref(s);
    tu_wait_child(&waiting, 5000);
    printf("destroy() while SNICallback pends: close without error; the later answer is ignored\n");

    /* requestCert: the chosen context's ca decides, as on a server. */
    request_cert = 1;
    printf("requestCert, rejectUnauthorized 1:\n");
    expect(!auth_case("client", "b.example", "CA-A client on b.example"), "CA-A on b.example",
           "accepted a certificate only the default context's ca trusts");
    expect(auth_case("client2", "b.example", "CA-B client on b.example"), "CA-B on b.example",
           "refused a certificate b.example's ca trusts");
    expect(v.authorized == 1 && strcmp(v.peer_cn, "test client 2") == 0, "CA-B on b.example", "not authorized");
    expect(!auth_case("client2", NULL, "CA-B client without SNI"), "CA-B without SNI",
           "the default context accepted a certificate only b.example's ca trusts");
    expect(auth_case("client", NULL, "CA-A client without SNI"), "CA-A without SNI",
           "the default context refused its own CA's client");
    expect(!auth_case(NULL, "b.example", "no client certificate on b.example"), "none on b.example",
           "accepted a client without a certificate");
    reset();
    expect(!openssl_peer("b.example", "client"), "openssl CA-A on b.example", "data went through");
    expect(atomic_load(&v.errors) == 1, "openssl CA-A on b.example", "no error event");
    reset();
    expect(openssl_peer("b.example", "client2"), "openssl CA-B on b.example", "no data");
    expect(v.authorized == 1, "openssl CA-B on b.example", "not authorized");
    printf("  openssl s_client -servername b.example: CA-A client refused, CA-B client authorized\n");

    reject = 0;
    printf("requestCert, rejectUnauthorized 0:\n");
    expect(auth_case("client", "b.example", "CA-A client on b.example"), "no-reject CA-A on b.example", "refused");
    expect(v.authorized == 0 && strcmp(v.auth_error, "UNABLE_TO_VERIFY_LEAF_SIGNATURE") == 0,
           "no-reject CA-A on b.example", "authorized, or the wrong authorizationError");
    expect(auth_case("client2", "b.example", "CA-B client on b.example"), "no-reject CA-B on b.example", "refused");
    expect(v.authorized == 1, "no-reject CA-B on b.example", "not authorized");
    expect(auth_case("client2", NULL, "CA-B client without SNI"), "no-reject CA-B without SNI", "refused");
    expect(v.authorized == 0, "no-reject CA-B without SNI", "authorized by the default context");
    request_cert = 0;
    reject = 1;

    /* OCSPRequest on the wrapped socket, after the SNICallback chose the context. */
    with_ocsp = 1;
    char want[8192];
    for (size_t i = 0; i < resp_len && 2 * i + 2 < sizeof want; i++) snprintf(want + 2 * i, 3, "%02x", resp[i]);
    reset();
    node_peer("localhost", NULL, 1, 0, &n, NULL);
    CHECK_INT(atomic_load(&ocsp_asked), 1);
    CHECK_INT(n.ocsp_events, 1);
    CHECK_STR(n.ocsp, want);
    CHECK(strstr(n.data, "SECURE-OK") != NULL);
    reset();
    node_peer("localhost", NULL, 0, 0, &n, NULL); /* a client that asks for none: not asked */
    CHECK_INT(atomic_load(&ocsp_asked), 1);
    CHECK(strstr(n.data, "SECURE-OK") != NULL);
    atomic_store(&ocsp_fail, 1);
    reset();
    node_peer("localhost", NULL, 1, 0, &n, NULL);
    CHECK_INT(atomic_load(&ocsp_asked), 2);
    CHECK_STR(n.error, "ECONNRESET");
    CHECK_STR(v.error_code, "ERR_TLS_OCSP_CALLBACK");
    CHECK_INT(atomic_load(&v.had_error), 1);
    printf("OCSPRequest on the wrapped socket: stapled to node's requestOCSP, unasked without it, failure "
           "%s\n", v.error_code);

    close(lfd);
    ntls_context_unref(ctx_b);
    free(resp), free(leaf), free(ca);
    if (failures) {
        fprintf(stderr, "%d failure(s)\n", failures);
        return 1;
    }
    printf("a socket wrapped in the server role chooses its context by SNI, and that context decides\n");
    return 0;
}
