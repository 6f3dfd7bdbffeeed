/* Attacks the claim that a context chosen by SNI (ntls_server_add_context, or the SNICallback
 * answering with ntls_request_sni_done) governs the whole handshake, client-certificate checks
 * included: its `ca` decides which client certificates are trusted, not the default context's.
 *
 * Server: requestCert, default context server-ec + ca CA-A (ca-cert.pem); "b.example" gets a
 * context whose only ca is CA-B (ca2-cert.pem), serving the wronghost certificate so the client
 * can see which context answered. Clients: `client` (signed by CA-A), `client2` (by CA-B).
 *   rejectUnauthorized 1: CA-A on b.example refused, CA-B on b.example authorized,
 *                         CA-B without SNI refused, CA-A without SNI authorized.
 *   rejectUnauthorized 0: all four complete; `authorized` as above, and the untrusted ones carry
 *                         the same authorizationError the default context reports.
 * The same through addContext and through the SNICallback, and once with openssl s_client. */
#include "client_util.h"

#include <pthread.h>

typedef struct {
    atomic_int secure, client_errors;
    int authorized;
    char auth_error[96];
    char peer_subject[160];
    char client_error_code[96];
} server_view;

static server_view view;
static ntls_context *ctx_b;
static atomic_int sni_asked;

static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    view.authorized = ntls_socket_authorized(s);
    const char *ae = ntls_socket_authorization_error(s);
    snprintf(view.auth_error, sizeof view.auth_error, "%s", ae ? ae : "(null)");
    ntls_cert *c = NULL;
    view.peer_subject[0] = 0;
    if (ntls_socket_get_peer_certificate(s, 0, &c) == 0) {
        snprintf(view.peer_subject, sizeof view.peer_subject, "%s", ntls_cert_subject(c));
        ntls_cert_unref(c);
    }
    atomic_fetch_add(&view.secure, 1);
    /* Application data: a peer that was refused must never see this line. */
    static const char marker[] = "SECURE-OK\n";
    ntls_socket_write(s, marker, sizeof marker - 1, NULL, NULL);
    ntls_socket_resume(s);
    ntls_socket_end(s);
}

static void on_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *d) {
    (void)srv, (void)s, (void)d;
    snprintf(view.client_error_code, sizeof view.client_error_code, "%s", ntls_error_code(err));
    atomic_fetch_add(&view.client_errors, 1);
}

typedef struct {
    ntls_request *req;
    ntls_context *ctx;
} answer;

static void *answer_later(void *arg) {
    answer *a = arg;
    tu_sleep_ms(1);
    CHECK_INT(ntls_request_sni_done(a->req, a->ctx), 0);
    free(a);
    return NULL;
}

/* SNICallback: b.example gets CA-B's context, anything else the default; every other call
 * answers from another thread, as an asynchronous lookup would. */
static void sni_callback(ntls_server *srv, const char *name, ntls_request *req, void *d) {
    (void)srv, (void)d;
    CHECK(name != NULL); /* Node calls the SNICallback only for a client that sent a name */
    ntls_context *ctx = name && strcmp(name, "b.example") == 0 ? ctx_b : NULL;
    if (atomic_fetch_add(&sni_asked, 1) % 2 == 0) {
        CHECK_INT(ntls_request_sni_done(req, ctx), 0);
        return;
    }
    answer *a = malloc(sizeof *a);
    CHECK(a != NULL);
    a->req = req;
    a->ctx = ctx;
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, answer_later, a), 0);
    pthread_detach(t);
}

enum { VIA_ADD_CONTEXT, VIA_SNI_CALLBACK };

static ntls_server *start(int reject, int via, int *port) {
    ntls_options *so = tu_server_options("server-ec");
    tu_add_pem(so, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_options_set_bool(so, NTLS_OPT_REQUEST_CERT, 1), 0);
    CHECK_INT(ntls_options_set_bool(so, NTLS_OPT_REJECT_UNAUTHORIZED, reject), 0);
    ntls_server *srv;
    int rc = ntls_server_new(NULL, so, &srv);
    if (rc != 0) fprintf(stderr, "server_new: %s\n", ntls_options_last_error(so));
    CHECK_INT(rc, 0);
    ntls_server_on_secure_connection(srv, on_secure);
    ntls_server_on_tls_client_error(srv, on_client_error);
    if (via == VIA_ADD_CONTEXT) CHECK_INT(ntls_server_add_context(srv, "b.example", ctx_b), 0);
    else CHECK_INT(ntls_server_on_sni(srv, sni_callback), 0);
    *port = tu_listen(srv);
    ntls_options_unref(so);
    return srv;
}

static const char *cur_client, *cur_sni;
static void configure(ntls_options *o) {
    char key[64], cert[64];
    snprintf(key, sizeof key, "%s-key.pem", cur_client);
    snprintf(cert, sizeof cert, "%s-cert.pem", cur_client);
    tu_add_pem(o, NTLS_OPT_KEY, key);
    tu_add_pem(o, NTLS_OPT_CERT, cert);
    /* No SNI: an empty servername falls back to host 127.0.0.1, and IPs send none. */
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_SERVERNAME, cur_sni ? cur_sni : ""), 0);
    /* The server's certificates name localhost / wrong.example.com, not b.example. */
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 0), 0);
}

static int failures;

/* One connection; returns 1 if the server accepted it. Fills what both ends saw. */
static int attempt(int port, const char *client, const char *sni, const char *label) {
    int secure_before = atomic_load(&view.secure), errors_before = atomic_load(&view.client_errors);
    tu_client c;
    c.send_on_secure = NULL;
    c.hold = 0;
    cur_client = client;
    cur_sni = sni;
    tu_client_connect(&c, NULL, port, configure);
    tu_client_wait_closed(&c, 10000);
    WAIT_FOR(atomic_load(&view.secure) + atomic_load(&view.client_errors) == secure_before + errors_before + 1,
             5000);
    int accepted = atomic_load(&view.secure) > secure_before;
    /* Which context answered: b.example must be served wronghost's certificate. */
    ntls_cert *pc = NULL;
    char served[96] = "(none)";
    if (ntls_socket_get_peer_certificate(c.s, 0, &pc) == 0) {
        const char *cn = strstr(ntls_cert_subject(pc), "CN=");
        snprintf(served, sizeof served, "%s", cn ? cn + 3 : ntls_cert_subject(pc));
        ntls_cert_unref(pc);
    }
    printf("  %-34s client=%-7s sni=%-9s -> %s (client: secure=%d had_error=%d error=%s; served %s%s%s)\n",
           label, client, sni ? sni : "(none)",
           accepted ? "accepted" : "refused", atomic_load(&c.secure), atomic_load(&c.had_error),
           c.errors ? c.error_code : "-", served, accepted ? "; authorized=" : "",
           accepted ? (view.authorized ? "1" : "0") : "");
    if (strcmp(served, "(none)") != 0) {
        CHECK_STR(served, sni ? "wrong.example.com" : "localhost");
    }
    if (!accepted) {
        /* Refused: the client learns it through an error event (after it was secure, so
         * the close that follows is clean, as in Node). */
        if (c.errors < 1) {
            fprintf(stderr, "FAIL %s: refused but client had_error=%d errors=%d\n", label,
                    atomic_load(&c.had_error), c.errors);
            failures++;
        }
    }
    ntls_socket_unref(c.s);
    return accepted;
}

static void expect(int cond, const char *label, const char *what) {
    if (!cond) {
        fprintf(stderr, "FAIL %s: %s\n", label, what);
        failures++;
    }
}

static void four_with_reject(int via) {
    const char *how = via == VIA_ADD_CONTEXT ? "addContext" : "SNICallback";
    char label[96];
    int port;
    memset(&view, 0, sizeof view);
    ntls_server *srv = start(1, via, &port);
    printf("%s, rejectUnauthorized 1:\n", how);

    snprintf(label, sizeof label, "%s reject: CA-A on b.example", how);
    expect(!attempt(port, "client", "b.example", label), label, "accepted a client certificate b.example's ca does not trust");

    snprintf(label, sizeof label, "%s reject: CA-B on b.example", how);
    int ok = attempt(port, "client2", "b.example", label);
    expect(ok, label, "refused a client certificate b.example's ca trusts");
    if (ok) {
        expect(view.authorized == 1, label, "server socket not authorized");
        expect(strstr(view.peer_subject, "CN=test client 2") != NULL, label, "wrong peer certificate");
    }

    snprintf(label, sizeof label, "%s reject: CA-B without SNI", how);
    expect(!attempt(port, "client2", NULL, label), label, "the default context accepted a CA-B client");

    snprintf(label, sizeof label, "%s reject: CA-A without SNI", how);
    ok = attempt(port, "client", NULL, label);
    expect(ok, label, "the default context refused its own CA's client");
    if (ok) expect(view.authorized == 1, label, "server socket not authorized");

    tu_close_server(srv);
    ntls_server_unref(srv);
}

static void four_without_reject(int via, const char *untrusted_code) {
    const char *how = via == VIA_ADD_CONTEXT ? "addContext" : "SNICallback";
    char label[96];
    int port;
    memset(&view, 0, sizeof view);
    ntls_server *srv = start(0, via, &port);
    printf("%s, rejectUnauthorized 0:\n", how);
    struct {
        const char *client, *sni;
        int authorized;
    } cases[] = {{"client", "b.example", 0}, {"client2", "b.example", 1}, {"client2", NULL, 0}, {"client", NULL, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(label, sizeof label, "%s no-reject: %s on %s", how, cases[i].client,
                 cases[i].sni ? cases[i].sni : "(no SNI)");
        int ok = attempt(port, cases[i].client, cases[i].sni, label);
        expect(ok, label, "rejectUnauthorized 0 refused a connection");
        if (!ok) continue;
        if (cases[i].authorized) {
            expect(view.authorized == 1, label, "authorized is not 1");
            expect(strcmp(view.auth_error, "(null)") == 0, label, "authorizationError is set");
        } else {
            expect(view.authorized == 0, label, "authorized is not 0");
            if (strcmp(view.auth_error, untrusted_code) != 0) {
                fprintf(stderr, "FAIL %s: authorizationError is %s, expected %s\n", label, view.auth_error,
                        untrusted_code);
                failures++;
            }
        }
    }
    tu_close_server(srv);
    ntls_server_unref(srv);
}

/* openssl s_client with a client certificate on b.example: returns 1 if it got the marker. */
static int openssl_peer(int port, const char *client, int *server_secure, int *server_errors) {
    memset(&view, 0, sizeof view);
    char connect[64], cert[64], key[64], line[512];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    snprintf(cert, sizeof cert, "%s-cert.pem", client);
    snprintf(key, sizeof key, "%s-key.pem", client);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-servername", "b.example", "-cert",
                    (char *)tu_cert(cert), "-key", (char *)tu_cert(key), "-quiet", NULL};
    tu_child ch;
    tu_spawn(&ch, argv);
    int got = 0;
    while (tu_read_line(&ch, line, sizeof line, 3000)) {
        if (strstr(line, "SECURE-OK")) got = 1;
    }
    tu_wait_child(&ch, 5000);
    WAIT_FOR(atomic_load(&view.secure) + atomic_load(&view.client_errors) >= 1, 5000);
    *server_secure = atomic_load(&view.secure);
    *server_errors = atomic_load(&view.client_errors);
    return got;
}

int main(void) {
    tu_init(60);
    ntls_options *bo = tu_server_options("wronghost");
    tu_add_pem(bo, NTLS_OPT_CA, "ca2-cert.pem");
    CHECK_INT(ntls_context_new(bo, &ctx_b), 0);
    ntls_options_unref(bo);

    /* What the library says today about an untrusted client certificate on the default context
     * (a CA-B client, no SNI, rejectUnauthorized 0): the b.example case must say the same. */
    int port;
    memset(&view, 0, sizeof view);
    ntls_server *srv = start(0, VIA_ADD_CONTEXT, &port);
    printf("baseline:\n");
    CHECK(attempt(port, "client2", NULL, "default context, CA-B client"));
    CHECK_INT(view.authorized, 0);
    char untrusted[96];
    snprintf(untrusted, sizeof untrusted, "%s", view.auth_error);
    printf("  untrusted client certificate on the default context: authorizationError %s\n", untrusted);
    CHECK_STR(untrusted, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    tu_close_server(srv);
    ntls_server_unref(srv);

    for (int via = VIA_ADD_CONTEXT; via <= VIA_SNI_CALLBACK; via++) {
        four_with_reject(via);
        four_without_reject(via, untrusted);
    }
    /* Asked once per connection that sent b.example (2 with, 2 without rejectUnauthorized);
     * the four without a name get the default context without asking, as in Node. */
    CHECK_INT(atomic_load(&sni_asked), 4);

    /* A real peer against addContext with rejectUnauthorized. */
    srv = start(1, VIA_ADD_CONTEXT, &port);
    int sec, errs;
    printf("openssl s_client:\n");
    int got = openssl_peer(port, "client", &sec, &errs);
    printf("  CA-A client on b.example: data %s, server secure=%d tlsClientError=%d\n", got ? "RECEIVED" : "none",
           sec, errs);
    expect(!got && sec == 0 && errs == 1, "openssl CA-A on b.example", "application data went through");
    got = openssl_peer(port, "client2", &sec, &errs);
    printf("  CA-B client on b.example: data %s, server secure=%d tlsClientError=%d\n", got ? "received" : "NONE",
           sec, errs);
    expect(got && sec == 1 && errs == 0, "openssl CA-B on b.example", "no application data");
    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_context_unref(ctx_b);

    if (failures) {
        fprintf(stderr, "%d failure(s): the SNI context does not govern client-certificate checks\n", failures);
        return 1;
    }
    printf("SNI contexts govern client-certificate checks\n");
    return 0;
}
