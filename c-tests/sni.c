/* SNI: addContext patterns (`*` is one label, the latest match wins, names compare
 * case-insensitively, the default context otherwise) and SNICallback answered
 * asynchronously from another thread with a context, with none, or with an error. */
#include "client_util.h"

#include <pthread.h>

static ntls_context *context_of(const char *name) {
    ntls_options *o = tu_server_options(name);
    ntls_context *ctx;
    CHECK_INT(ntls_context_new(o, &ctx), 0);
    ntls_options_unref(o);
    return ctx;
}

static const char *servername;
static void set_servername(ntls_options *o) {
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, servername);
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 0);
}

/* The subject CN of the certificate the server chose for `name`, or the client's error. */
static void cert_for(int port, const char *name, char *out, size_t len) {
    tu_client c;
    c.send_on_secure = NULL;
    c.hold = 0;
    servername = name;
    tu_client_connect(&c, NULL, port, set_servername);
    tu_client_wait_closed(&c, 5000);
    if (c.peer) {
        snprintf(out, len, "%s", strstr(ntls_cert_subject(c.peer), "CN=") + 3);
    } else {
        snprintf(out, len, "error %s", c.error_code);
    }
    tu_client_free(&c);
}

static char server_side_name[128];
static void remember_name(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    const char *n = ntls_socket_servername(s);
    snprintf(server_side_name, sizeof server_side_name, "%s", n ? n : "");
    ntls_socket_resume(s);
}

/* SNICallback: answers on another thread after a pause, as an async lookup would. */
static ntls_context *answer_ctx;
static char asked[128];
static atomic_int asked_count;
typedef struct {
    ntls_request *req;
    const char *name;
} pending;

static void *answer_later(void *arg) {
    pending *p = arg;
    tu_sleep_ms(30);
    if (p->name && strcmp(p->name, "fail.example.com") == 0) {
        CHECK_INT(ntls_request_fail(p->req, "no certificate for fail.example.com"), 0);
    } else if (p->name && strcmp(p->name, "wrong.example.com") == 0) {
        CHECK_INT(ntls_request_sni_done(p->req, answer_ctx), 0);
        CHECK_INT(ntls_request_sni_done(p->req, NULL), NTLS_EALREADY); /* once only */
    } else {
        CHECK_INT(ntls_request_sni_done(p->req, NULL), 0);
    }
    free(p);
    return NULL;
}

static ntls_request *_Atomic held; /* hold.example.com: answered only when the test says */
static void sni_callback(ntls_server *srv, const char *name, ntls_request *req, void *d) {
    (void)srv, (void)d;
    snprintf(asked, sizeof asked, "%s", name ? name : "(none)");
    atomic_fetch_add(&asked_count, 1);
    if (name && strcmp(name, "hold.example.com") == 0) {
        atomic_store(&held, req);
        return;
    }
    pending *p = malloc(sizeof *p);
    p->req = req;
    p->name = name && strcmp(name, "fail.example.com") == 0 ? "fail.example.com"
              : name && strcmp(name, "wrong.example.com") == 0 ? "wrong.example.com" : NULL;
    pthread_t t;
    pthread_create(&t, NULL, answer_later, p);
    pthread_detach(t);
}

static atomic_int sni_failures;
static char sni_failure_code[64];
static void on_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *d) {
    (void)srv, (void)s, (void)d;
    snprintf(sni_failure_code, sizeof sni_failure_code, "%s", ntls_error_code(err));
    atomic_fetch_add(&sni_failures, 1);
}

int main(void) {
    tu_init(60);
    char cn[128];
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, remember_name);
    int port = tu_listen(srv);
    ntls_context *wrong = context_of("wronghost"), *rsa = context_of("server-rsa");

    cert_for(port, "wrong.example.com", cn, sizeof cn);
    CHECK_STR(cn, "localhost"); /* nothing added yet: the default context */
    CHECK_INT(ntls_server_add_context(srv, "wrong.example.com", wrong), 0);
    cert_for(port, "wrong.example.com", cn, sizeof cn);
    CHECK_STR(cn, "wrong.example.com");
    CHECK_STR(server_side_name, "wrong.example.com");
    cert_for(port, "WRONG.Example.COM", cn, sizeof cn);
    CHECK_STR(cn, "wrong.example.com");
    cert_for(port, "other.test", cn, sizeof cn);
    CHECK_STR(cn, "localhost");

    /* A later wildcard wins even over the exact name added before it. */
    CHECK_INT(ntls_server_add_context(srv, "*.example.com", rsa), 0);
    cert_for(port, "wrong.example.com", cn, sizeof cn);
    CHECK_STR(cn, "localhost"); /* server-rsa's CN */
    cert_for(port, "a.b.example.com", cn, sizeof cn);
    CHECK_STR(cn, "localhost");
    CHECK_INT(ntls_server_add_context(srv, "", rsa), NTLS_EINVAL);
    CHECK_INT(ntls_server_add_context(srv, "x", NULL), NTLS_EINVAL);
    tu_close_server(srv);
    ntls_server_unref(srv);

    /* SNICallback */
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, remember_name);
    ntls_server_on_tls_client_error(srv, on_client_error);
    CHECK_INT(ntls_server_on_sni(srv, sni_callback), 0);
    port = tu_listen(srv);
    answer_ctx = wrong;
    cert_for(port, "wrong.example.com", cn, sizeof cn);
    CHECK_STR(asked, "wrong.example.com");
    CHECK_STR(cn, "wrong.example.com");
    cert_for(port, "anything.test", cn, sizeof cn);
    CHECK_STR(cn, "localhost");
    cert_for(port, "fail.example.com", cn, sizeof cn);
    printf("failed SNICallback, client sees: %s\n", cn);
    CHECK_STR(cn, "error ECONNRESET"); /* as from Node: the server drops the connection */
    WAIT_FOR(atomic_load(&sni_failures) == 1, 5000);
    CHECK_STR(sni_failure_code, "ERR_TLS_SNI_CALLBACK");
    CHECK_INT(atomic_load(&asked_count), 3);

    /* A client that goes away while the callback has not answered: tlsClientError ECONNRESET
     * at once, as Node's server reports it, not once the program answers. */
    ntls_options *co;
    CHECK_INT(ntls_options_new(&co), 0);
    ntls_options_set_string(co, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_int(co, NTLS_OPT_PORT, port);
    ntls_options_set_string(co, NTLS_OPT_SERVERNAME, "hold.example.com");
    ntls_options_set_bool(co, NTLS_OPT_REJECT_UNAUTHORIZED, 0);
    ntls_socket *c;
    CHECK_INT(ntls_socket_new(NULL, &c), 0);
    CHECK_INT(ntls_socket_connect(c, co), 0);
    WAIT_FOR(atomic_load(&held) != NULL, 5000);
    CHECK_INT(ntls_socket_destroy(c), 0);
    WAIT_FOR(atomic_load(&sni_failures) == 2, 3000);
    CHECK_STR(sni_failure_code, "ECONNRESET");
    ntls_request_sni_done(atomic_load(&held), NULL); /* a late answer wakes nothing */
    ntls_socket_unref(c);
    ntls_options_unref(co);
    printf("SNI contexts and SNICallback behave as Node's\n");
    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_context_unref(wrong);
    ntls_context_unref(rsa);
    ntls_options_unref(so);
    return 0;
}
