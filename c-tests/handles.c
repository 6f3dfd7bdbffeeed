/* Validated handles: a second _unref, a pointer the library never gave out, one already freed
 * or one of another handle type is NTLS_EINVAL (NULL, 0 for getters), for every handle type —
 * never a read of freed memory (memcheck_handles runs this under valgrind). And a closed
 * server refuses every call that would change it, the same way. */
#include "client_util.h"

/* Something at a real address that is no handle: passing it must not be dereferenced. */
static union {
    long long words[64];
    char bytes[512];
} foreign;

#define FOREIGN(type) ((type *)(void *)foreign.bytes)

static void check_loop(void) {
    ntls_loop *lp;
    CHECK_INT(ntls_loop_new(&lp), 0);
    CHECK_INT(ntls_loop_ref(lp), 0);
    CHECK_INT(ntls_loop_unref(lp), 0);
    CHECK_INT(ntls_loop_close(lp), 0);
    CHECK_INT(ntls_loop_unref(lp), 0);
    /* freed */
    CHECK_INT(ntls_loop_unref(lp), NTLS_EINVAL);
    CHECK_INT(ntls_loop_ref(lp), NTLS_EINVAL);
    CHECK_INT(ntls_loop_close(lp), NTLS_EINVAL);
    ntls_socket *s = NULL;
    CHECK_INT(ntls_socket_new(lp, &s), NTLS_EINVAL);
    CHECK(s == NULL);
    /* never given out */
    CHECK_INT(ntls_loop_close(FOREIGN(ntls_loop)), NTLS_EINVAL);
    CHECK_INT(ntls_loop_unref(FOREIGN(ntls_loop)), NTLS_EINVAL);
    CHECK_INT(ntls_socket_new(FOREIGN(ntls_loop), &s), NTLS_EINVAL);
    /* the default loop ignores ref and unref, however many */
    ntls_loop *def = ntls_default_loop();
    CHECK_INT(ntls_loop_unref(def), 0);
    CHECK_INT(ntls_loop_unref(def), 0);
    CHECK_INT(ntls_socket_new(def, &s), 0);
    CHECK_INT(ntls_socket_unref(s), 0);
}

static void check_options(void) {
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    CHECK_INT(ntls_options_ref(o), 0);
    CHECK_INT(ntls_options_unref(o), 0);
    CHECK_INT(ntls_options_set_int(o, NTLS_OPT_PORT, 1), 0);
    CHECK_INT(ntls_options_unref(o), 0);
    /* freed */
    CHECK_INT(ntls_options_unref(o), NTLS_EINVAL);
    CHECK_INT(ntls_options_ref(o), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_int(o, NTLS_OPT_PORT, 2), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_HOST, "x"), NTLS_EINVAL);
    CHECK_INT(ntls_options_key(o, "host"), NTLS_EINVAL);
    CHECK_STR(ntls_options_last_error(o), "options is not a live handle");
    ntls_context *ctx = NULL;
    CHECK_INT(ntls_context_new(o, &ctx), NTLS_EINVAL);
    ntls_server *srv = NULL;
    CHECK_INT(ntls_server_new(NULL, o, &srv), NTLS_EINVAL);
    CHECK(ctx == NULL && srv == NULL);
    /* never given out, and another handle type */
    CHECK_INT(ntls_options_set_bool(FOREIGN(ntls_options), NTLS_OPT_REQUEST_CERT, 1), NTLS_EINVAL);
    CHECK_INT(ntls_options_unref(FOREIGN(ntls_options)), NTLS_EINVAL);
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    CHECK_INT(ntls_options_set_int((ntls_options *)(void *)s, NTLS_OPT_PORT, 1), NTLS_EINVAL);
    CHECK_INT(ntls_options_unref((ntls_options *)(void *)s), NTLS_EINVAL);
    CHECK_INT(ntls_socket_unref(s), 0);
}

static void check_context(void) {
    ntls_options *o = tu_server_options("server-ec");
    ntls_context *ctx;
    CHECK_INT(ntls_context_new(o, &ctx), 0);
    CHECK_INT(ntls_context_ref(ctx), 0);
    CHECK_INT(ntls_context_unref(ctx), 0);
    CHECK_INT(ntls_context_unref(ctx), 0);
    /* freed */
    CHECK_INT(ntls_context_unref(ctx), NTLS_EINVAL);
    CHECK_INT(ntls_context_ref(ctx), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_context(o, NTLS_OPT_SECURE_CONTEXT, ctx), NTLS_EINVAL);
    /* never given out */
    CHECK_INT(ntls_context_unref(FOREIGN(ntls_context)), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_context(o, NTLS_OPT_SECURE_CONTEXT, FOREIGN(ntls_context)), NTLS_EINVAL);
    CHECK_INT(ntls_options_unref(o), 0);
}

static void check_socket(void) {
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    CHECK_INT(ntls_socket_ref(s), 0);
    CHECK_INT(ntls_socket_unref(s), 0);
    CHECK_INT(ntls_socket_destroy(s), 0);
    CHECK_INT(ntls_socket_unref(s), 0);
    /* the library kept its reference until `close`: wait until the socket is gone for good */
    WAIT_FOR(ntls_socket_encrypted(s) == 0, 5000);
    /* freed */
    CHECK_INT(ntls_socket_unref(s), NTLS_EINVAL);
    CHECK_INT(ntls_socket_ref(s), NTLS_EINVAL);
    CHECK_INT(ntls_socket_write(s, "x", 1, NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_end(s), NTLS_EINVAL);
    CHECK_INT(ntls_socket_destroy(s), NTLS_EINVAL);
    CHECK_INT(ntls_socket_on_data(s, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_set_data(s, NULL), NTLS_EINVAL);
    CHECK(ntls_socket_get_data(s) == NULL);
    CHECK(ntls_socket_get_protocol(s) == NULL);
    CHECK_INT(ntls_socket_bytes_read(s), 0);
    CHECK_STR(ntls_socket_last_error(s), "socket is not a live handle");
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    CHECK_INT(ntls_socket_connect(s, o), NTLS_EINVAL);
    /* never given out */
    CHECK_INT(ntls_socket_write(FOREIGN(ntls_socket), "x", 1, NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_connect(FOREIGN(ntls_socket), o), NTLS_EINVAL);
    CHECK_INT(ntls_socket_unref(FOREIGN(ntls_socket)), NTLS_EINVAL);
    CHECK_INT(ntls_socket_wrap_fd(FOREIGN(ntls_socket), 0, o), NTLS_EINVAL);
    /* another handle type */
    CHECK_INT(ntls_socket_destroy((ntls_socket *)(void *)o), NTLS_EINVAL);
    CHECK_INT(ntls_socket_unref((ntls_socket *)(void *)o), NTLS_EINVAL);
    CHECK_INT(ntls_options_unref(o), 0);
}

/* A server and one client: the server's socket is lent to callbacks, the request to the SNI
 * callback, the error to the error callback, the certificate handed out by the client. */
static atomic_int lent_unref = 1, lent_ref = 1, requests;
static ntls_request *_Atomic seen_request;
static const ntls_error *_Atomic seen_error;
static atomic_int error_in_callback;

static void on_secure_connection(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    atomic_store(&lent_unref, ntls_socket_unref(s)); /* lent: the program holds no reference */
    atomic_store(&lent_ref, ntls_socket_ref(s));
    ntls_socket_unref(s);
    ntls_socket_resume(s); /* read, so that the client's close reaches it */
}

static void on_sni(ntls_server *srv, const char *name, ntls_request *req, void *d) {
    (void)srv, (void)name, (void)d;
    atomic_store(&seen_request, req);
    CHECK_INT(ntls_request_sni_done(req, FOREIGN(ntls_context)), NTLS_EINVAL); /* still pending */
    CHECK_INT(ntls_request_sni_done(req, NULL), 0);
    CHECK_INT(ntls_request_sni_done(req, NULL), NTLS_EALREADY);
    atomic_fetch_add(&requests, 1);
}

static void on_client_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s, (void)d;
    atomic_store(&error_in_callback, ntls_error_status(err));
    atomic_store(&seen_error, err);
}

static void set_servername(ntls_options *o) {
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
}

static void check_closed_server(ntls_server *srv, ntls_options *so);

static void check_lent_handles(void) {
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    CHECK_INT(ntls_server_on_secure_connection(srv, on_secure_connection), 0);
    CHECK_INT(ntls_server_on_sni(srv, on_sni), 0);
    int port = tu_listen(srv);

    tu_client c;
    memset(&c, 0, sizeof c);
    c.send_on_secure = "hello";
    c.hold = 1;
    tu_client_connect(&c, NULL, port, set_servername);
    WAIT_FOR(atomic_load(&c.secure), 10000);
    WAIT_FOR(atomic_load(&requests) == 1, 10000);
    WAIT_FOR(atomic_load(&lent_ref) != 1, 10000);
    CHECK_INT(atomic_load(&lent_unref), NTLS_EINVAL);
    CHECK_INT(atomic_load(&lent_ref), 0);

    /* the request, finished: a late answer is refused, a foreign one too */
    CHECK_INT(ntls_request_sni_done(atomic_load(&seen_request), NULL), NTLS_EALREADY);
    CHECK_INT(ntls_request_fail(atomic_load(&seen_request), "late"), NTLS_EALREADY);
    CHECK_INT(ntls_request_fail(FOREIGN(ntls_request), "x"), NTLS_EINVAL);
    CHECK_INT(ntls_request_sni_done((ntls_request *)(void *)srv, NULL), NTLS_EINVAL);

    /* the certificate: handed out once, released once */
    ntls_cert *cert = c.peer;
    CHECK(cert != NULL);
    CHECK(ntls_cert_subject(cert) != NULL);
    c.peer = NULL;
    CHECK_INT(ntls_cert_unref(cert), 0);
    CHECK_INT(ntls_cert_unref(cert), NTLS_EINVAL);
    CHECK(ntls_cert_subject(cert) == NULL);
    CHECK(ntls_cert_to_json(cert) == NULL);
    const uint8_t *der;
    size_t der_len;
    CHECK_INT(ntls_cert_der(cert, &der, &der_len), NTLS_EINVAL);
    CHECK(ntls_cert_fingerprint256(FOREIGN(ntls_cert)) == NULL);
    CHECK_INT(ntls_cert_unref(FOREIGN(ntls_cert)), NTLS_EINVAL);
    CHECK_INT(ntls_socket_get_peer_certificate(FOREIGN(ntls_socket), 0, &cert), NTLS_EINVAL);

    /* the session: TLS 1.3 tickets come after secureConnect */
    ntls_session *sess = NULL;
    WAIT_FOR(ntls_socket_get_session(c.s, &sess) == 0, 10000);
    CHECK(ntls_session_protocol(sess) != NULL);
    CHECK_INT(ntls_session_ref(sess), 0);
    CHECK_INT(ntls_session_unref(sess), 0);
    CHECK_INT(ntls_session_unref(sess), 0);
    CHECK_INT(ntls_session_unref(sess), NTLS_EINVAL); /* the socket keeps it, the program does not */
    CHECK(ntls_session_protocol(FOREIGN(ntls_session)) == NULL);
    CHECK_INT(ntls_session_is_resumable(FOREIGN(ntls_session)), 0);
    CHECK_INT(ntls_session_unref(FOREIGN(ntls_session)), NTLS_EINVAL);
    ntls_options *so2;
    CHECK_INT(ntls_options_new(&so2), 0);
    CHECK_INT(ntls_options_set_session(so2, FOREIGN(ntls_session)), NTLS_EINVAL);
    CHECK_STR(ntls_options_last_error(so2), "session is not a live handle");
    CHECK_INT(ntls_options_unref(so2), 0);

    ntls_socket_destroy(c.s);
    tu_client_wait_closed(&c, 10000);
    tu_client_free(&c);

    /* an error is valid during its callback only */
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_int(o, NTLS_OPT_PORT, tu_closed_port());
    tu_client refused;
    memset(&refused, 0, sizeof refused);
    CHECK_INT(ntls_socket_new(NULL, &refused.s), 0);
    tu_client_watch(&refused);
    CHECK_INT(ntls_socket_on_error(refused.s, on_client_error), 0);
    CHECK_INT(ntls_socket_connect(refused.s, o), 0);
    tu_client_wait_closed(&refused, 10000);
    CHECK_INT(atomic_load(&error_in_callback), NTLS_ECONNREFUSED);
    const ntls_error *err = atomic_load(&seen_error);
    CHECK(err != NULL);
    CHECK(ntls_error_code(err) == NULL);
    CHECK(ntls_error_message(err) == NULL);
    CHECK_INT(ntls_error_status(err), NTLS_EINVAL);
    CHECK(ntls_error_syscall(err) == NULL);
    CHECK_INT(ntls_error_port(err), 0);
    CHECK_INT(ntls_error_cert(err, &cert), NTLS_EINVAL);
    CHECK(ntls_error_code(FOREIGN(ntls_error)) == NULL);
    tu_client_free(&refused);
    CHECK_INT(ntls_options_unref(o), 0);

    check_closed_server(srv, so);
    CHECK_INT(ntls_options_unref(so), 0);
}

static atomic_int server_closed;
static void on_server_close(ntls_server *srv, void *d) {
    (void)srv, (void)d;
    atomic_store(&server_closed, 1);
}

/* After `close`, every call that would change the server is NTLS_ECLOSED, getters answer
 * "not listening", and after the last _unref the pointer is NTLS_EINVAL. */
static void check_closed_server(ntls_server *srv, ntls_options *so) {
    CHECK_INT(ntls_server_close(srv, on_server_close), 0);
    WAIT_FOR(atomic_load(&server_closed), 10000);
    uint8_t keys[48] = {0};
    CHECK_INT(ntls_server_set_ticket_keys(srv, keys, sizeof keys), NTLS_ECLOSED);
    CHECK_INT(ntls_server_set_ticket_keys(srv, keys, 3), NTLS_ECLOSED);
    CHECK_INT(ntls_server_get_ticket_keys(srv, keys, sizeof keys), NTLS_ECLOSED);
    CHECK_STR(ntls_server_last_error(srv), "server is closed");
    ntls_context *ctx;
    CHECK_INT(ntls_context_new(so, &ctx), 0);
    CHECK_INT(ntls_server_add_context(srv, "a.example.com", ctx), NTLS_ECLOSED);
    CHECK_INT(ntls_server_listen(srv, "127.0.0.1", 0, NULL), NTLS_ECLOSED);
    CHECK_INT(ntls_server_on_secure_connection(srv, NULL), NTLS_ECLOSED);
    CHECK_INT(ntls_server_on_sni(srv, NULL), NTLS_ECLOSED);
    CHECK_INT(ntls_server_close(srv, NULL), NTLS_EALREADY);
    CHECK_INT(ntls_server_address(srv, NULL, 0, NULL, NULL), NTLS_ENOTCONN);
    CHECK_INT(ntls_server_connections(srv), 0);
    CHECK_INT(ntls_server_set_data(srv, NULL), 0); /* the one exception, to clear a pointer */

    CHECK_INT(ntls_server_unref(srv), 0);
    CHECK_INT(ntls_server_unref(srv), NTLS_EINVAL);
    CHECK_INT(ntls_server_ref(srv), NTLS_EINVAL);
    CHECK_INT(ntls_server_close(srv, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_server_set_ticket_keys(srv, keys, sizeof keys), NTLS_EINVAL);
    CHECK_INT(ntls_server_add_context(srv, "a.example.com", ctx), NTLS_EINVAL);
    CHECK_INT(ntls_server_listen(srv, NULL, 0, NULL), NTLS_EINVAL);
    CHECK_STR(ntls_server_last_error(srv), "server is not a live handle");
    CHECK_INT(ntls_server_listen(FOREIGN(ntls_server), NULL, 0, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_server_unref(FOREIGN(ntls_server)), NTLS_EINVAL);
    CHECK_INT(ntls_server_close((ntls_server *)(void *)ctx, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_context_unref(ctx), 0);
}

int main(void) {
    tu_init(60);
    memset(&foreign, 0x5a, sizeof foreign);
    check_loop();
    check_options();
    check_context();
    check_socket();
    check_lent_handles();
    printf("handles ok\n");
    return 0;
}
