/* OCSP stapling with a real response made by `openssl ocsp` for the test CA
 * (server-ec-ocsp.der): our server's OCSPRequest event (answered from another thread) and
 * static ocspResponse, to Node's client with requestOCSP, `openssl s_client -status` and our
 * own client; our client's requestOCSP and OCSPResponse against `openssl s_server
 * -status_file`, over TLS 1.2 and 1.3. */
#include "test_util.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

static uint8_t *resp, *leaf, *ca;
static size_t resp_len, leaf_len, ca_len;
static atomic_int asked, answer_mode, issuer_seen, client_errors; /* mode 0 staple, 1 none, 2 fail */
static char client_error_code[96];

typedef struct {
    ntls_request *req;
    int mode;
} pending;

static void *answer(void *p) {
    pending *a = p;
    tu_sleep_ms(20);
    if (a->mode == 2)
        CHECK_INT(ntls_request_fail(a->req, "no OCSP response today"), 0);
    else
        CHECK_INT(ntls_request_ocsp_done(a->req, a->mode == 0 ? resp : NULL, a->mode == 0 ? resp_len : 0), 0);
    CHECK_INT(ntls_request_ocsp_done(a->req, NULL, 0), NTLS_EALREADY);
    free(a);
    return NULL;
}

static void on_ocsp_request(ntls_server *srv, const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                            size_t issuer_len, ntls_request *req, void *d) {
    (void)srv;
    (void)d;
    CHECK(cert_len == leaf_len && memcmp(cert, leaf, leaf_len) == 0);
    if (issuer) {
        CHECK(issuer_len == ca_len && memcmp(issuer, ca, ca_len) == 0);
        atomic_fetch_add(&issuer_seen, 1);
    }
    atomic_fetch_add(&asked, 1);
    pending *a = malloc(sizeof *a);
    a->req = req;
    a->mode = atomic_load(&answer_mode);
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, answer, a), 0);
    pthread_detach(t);
}

static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv;
    (void)d;
    ntls_socket_resume(s);
}

static void on_client_error(ntls_server *srv, const ntls_error *e, ntls_socket *s, void *d) {
    (void)srv;
    (void)s;
    (void)d;
    snprintf(client_error_code, sizeof client_error_code, "%s", ntls_error_code(e));
    atomic_fetch_add(&client_errors, 1);
}

static ntls_server *start_server(int handler, int with_ca, int static_response, int *port) {
    ntls_options *so = tu_server_options("server-ec");
    if (with_ca) tu_add_pem(so, NTLS_OPT_CA, "ca-cert.pem");
    if (static_response) CHECK_INT(ntls_options_add_bytes(so, NTLS_OPT_OCSP_RESPONSE, resp, resp_len), 0);
    ntls_server *srv = NULL;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_options_unref(so);
    ntls_server_on_secure_connection(srv, on_secure);
    ntls_server_on_tls_client_error(srv, on_client_error);
    if (handler) ntls_server_on_ocsp_request(srv, on_ocsp_request);
    *port = tu_listen(srv);
    return srv;
}

static void stop_server(ntls_server *srv) { tu_close_server(srv); ntls_server_unref(srv); }

static char hex[8192];
static const char *to_hex(const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n && 2 * i + 2 < sizeof hex; i++) snprintf(hex + 2 * i, 3, "%02x", b[i]);
    return hex;
}

/* Node's client with requestOCSP: the JSON line it printed. */
static void node_client(int port, const char *version, int request, char *line, size_t len) {
    char script[512], p[16];
    snprintf(script, sizeof script, "%s/ocsp_client.js", tu_peers_dir());
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = {"node", script, (char *)tu_cert(""), p, (char *)version, request ? "1" : "0", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, len, 20000));
    CHECK_INT(tu_wait_child(&c, 5000), 0);
}

/* Our client. */
typedef struct {
    atomic_int events, secure, closed, errors, before_secure;
    uint8_t got[4096];
    size_t got_len;
    int got_null;
} oc;

static void oc_ocsp(ntls_socket *s, const uint8_t *der, size_t len, void *d) {
    (void)s;
    oc *c = d;
    c->got_null = der == NULL;
    if (der && len <= sizeof c->got) memcpy(c->got, der, len);
    c->got_len = len;
    if (!atomic_load(&c->secure)) atomic_fetch_add(&c->before_secure, 1);
    atomic_fetch_add(&c->events, 1);
}
static void oc_secure(ntls_socket *s, void *d) {
    atomic_store(&((oc *)d)->secure, 1);
    ntls_socket_end(s);
}
static void oc_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s;
    fprintf(stderr, "client error %s\n", ntls_error_code(e));
    atomic_fetch_add(&((oc *)d)->errors, 1);
}
static void oc_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    (void)had_error;
    atomic_store(&((oc *)d)->closed, 1);
}

static void our_client(oc *c, int port, const char *version, int request) {
    memset(c, 0, sizeof *c);
    ntls_options *o = NULL;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_string(o, NTLS_OPT_MAX_VERSION, version);
    if (request) CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_REQUEST_OCSP, 1), 0);
    ntls_socket *s = NULL;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    ntls_socket_set_data(s, c);
    ntls_socket_on_ocsp_response(s, oc_ocsp);
    ntls_socket_on_secure_connect(s, oc_secure);
    ntls_socket_on_error(s, oc_error);
    ntls_socket_on_close(s, oc_close);
    ntls_socket_resume(s);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    ntls_options_unref(o);
    WAIT_FOR(atomic_load(&c->closed), 10000);
    CHECK_INT(atomic_load(&c->errors), 0);
    CHECK_INT(atomic_load(&c->secure), 1);
    CHECK_INT(atomic_load(&c->before_secure), atomic_load(&c->events)); /* before secureConnect */
    ntls_socket_unref(s);
}

int main(void) {
    tu_init(60);
    char line[8192], v[8192];
    resp = (uint8_t *)tu_read_file(tu_cert("server-ec-ocsp.der"), &resp_len);
    leaf = (uint8_t *)tu_read_file(tu_cert("server-ec-cert.der"), &leaf_len);
    ca = (uint8_t *)tu_read_file(tu_cert("ca-cert.der"), &ca_len);
    CHECK(resp_len > 100);
    CHECK_INT(ntls_server_on_ocsp_request(NULL, on_ocsp_request), NTLS_EINVAL);
    CHECK_INT(ntls_request_ocsp_done(NULL, NULL, 0), NTLS_EINVAL);
    ntls_options *bad = tu_server_options("server-ec");
    ntls_options_add_bytes(bad, NTLS_OPT_OCSP_RESPONSE, resp, resp_len);
    ntls_options_add_bytes(bad, NTLS_OPT_OCSP_RESPONSE, resp, resp_len);
    ntls_server *none = NULL;
    CHECK_INT(ntls_server_new(NULL, bad, &none), NTLS_EINVAL); /* two responses, one cert */
    CHECK(strstr(ntls_options_last_error(bad), "ocspResponse") != NULL);
    ntls_options_unref(bad);

    const char *versions[] = {"TLSv1.3", "TLSv1.2"};
    for (int i = 0; i < 2; i++) {
        const char *ver = versions[i];
        /* OCSPRequest, answered with the response: Node's client gets exactly its bytes. */
        int port;
        ntls_server *srv = start_server(1, 0, 0, &port);
        atomic_store(&answer_mode, 0);
        atomic_store(&asked, 0);
        atomic_store(&issuer_seen, 0);
        node_client(port, ver, 1, line, sizeof line);
        CHECK(tu_json(line, "ocsp", v, sizeof v));
        CHECK_STR(v, to_hex(resp, resp_len));
        CHECK(tu_json(line, "events", v, sizeof v));
        CHECK_STR(v, "1");
        CHECK_INT(atomic_load(&asked), 1);
        CHECK_INT(atomic_load(&issuer_seen), 0); /* no chain, no ca: issuer NULL, as Node's null */
        /* A client that does not ask: no OCSPRequest. */
        node_client(port, ver, 0, line, sizeof line);
        CHECK_INT(atomic_load(&asked), 1);
        /* Answered with none: Node's OCSPResponse is null. */
        atomic_store(&answer_mode, 1);
        node_client(port, ver, 1, line, sizeof line);
        CHECK(tu_json(line, "ocsp", v, sizeof v));
        CHECK_STR(v, "null");
        CHECK(tu_json(line, "secure", v, sizeof v));
        CHECK_STR(v, "true");
        /* Failed: the handshake fails, tlsClientError says why, the client sees a reset. */
        atomic_store(&answer_mode, 2);
        atomic_store(&client_errors, 0);
        node_client(port, ver, 1, line, sizeof line);
        CHECK(tu_json(line, "error", v, sizeof v));
        CHECK_STR(v, "ECONNRESET");
        WAIT_FOR(atomic_load(&client_errors) == 1, 5000);
        CHECK_STR(client_error_code, "ERR_TLS_OCSP_CALLBACK");
        /* openssl s_client -status sees the stapled response and checks it. */
        atomic_store(&answer_mode, 0);
        char connect[64];
        snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
        char *sargv[] = {"openssl", "s_client", "-connect", connect, "-status", strcmp(ver, "TLSv1.3") ? "-tls1_2" : "-tls1_3",
                         "-CAfile", (char *)tu_cert("ca-cert.pem"), NULL};
        CHECK(tu_run_count(sargv, 200, "OCSP Response Status: successful", NULL) == 1);
        /* Our client, requestOCSP, against our server. */
        oc c;
        our_client(&c, port, ver, 1);
        CHECK_INT(c.events, 1);
        CHECK(c.got_len == resp_len && memcmp(c.got, resp, resp_len) == 0);
        stop_server(srv);

        /* The issuer from the server's ca. */
        atomic_store(&issuer_seen, 0);
        srv = start_server(1, 1, 0, &port);
        node_client(port, ver, 1, line, sizeof line);
        CHECK_INT(atomic_load(&issuer_seen), 1);
        stop_server(srv);

        /* A static ocspResponse, no event. */
        srv = start_server(0, 0, 1, &port);
        node_client(port, ver, 1, line, sizeof line);
        CHECK(tu_json(line, "ocsp", v, sizeof v));
        CHECK_STR(v, to_hex(resp, resp_len));
        stop_server(srv);
        printf("%s: OCSPRequest (staple, none, failure), issuer, static ocspResponse: node, openssl, nodetls clients\n", ver);

        /* Our client against openssl s_server -status_file, and without a response. */
        for (int with = 1; with >= 0; with--) {
            char ports[16];
            int p = tu_closed_port();
            snprintf(ports, sizeof ports, "%d", p);
            char *oargv[] = {"openssl", "s_server", "-accept", ports, "-key", (char *)tu_cert("server-ec-key.pem"),
                             "-cert", (char *)tu_cert("server-ec-cert.pem"), "-naccept", "2",
                             with ? "-status_file" : NULL, (char *)tu_cert("server-ec-ocsp.der"), NULL};
            tu_child srvc;
            CHECK(tu_spawn_ready(&srvc, oargv, "ACCEPT", 10000));
            oc c;
            our_client(&c, p, ver, 1);
            CHECK_INT(c.events, 1);
            if (with)
                CHECK(c.got_len == resp_len && memcmp(c.got, resp, resp_len) == 0);
            else
                CHECK(c.got_null && c.got_len == 0);
            our_client(&c, p, ver, 0);
            CHECK_INT(c.events, 0); /* no requestOCSP, no event */
            kill(srvc.pid, SIGTERM);
            tu_wait_child(&srvc, 5000);
        }
        printf("%s: our client's OCSPResponse against openssl s_server -status_file (bytes, then NULL)\n", ver);
    }
    free(resp);
    free(leaf);
    free(ca);
    return 0;
}
