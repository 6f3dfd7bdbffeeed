/* Bad input gets a clear status and words, never a crash: NULLs, unknown options, wrong
 * types, broken key material, calls after close, twice, from callbacks and other threads. */
#include "client_util.h"

#include <pthread.h>

static void check_nulls(void) {
    CHECK_INT(ntls_options_new(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_bool(NULL, NTLS_OPT_REQUEST_CERT, 1), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_string(NULL, NTLS_OPT_HOST, "x"), NTLS_EINVAL);
    ntls_context *ctx = NULL;
    CHECK_INT(ntls_context_new(NULL, &ctx), NTLS_EINVAL);
    ntls_server *srv = NULL;
    CHECK_INT(ntls_server_new(NULL, NULL, &srv), NTLS_EINVAL);
    CHECK_INT(ntls_socket_new(NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_write(NULL, "x", 1, NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_end(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_destroy(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_socket_connect(NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_server_listen(NULL, NULL, 0, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_server_close(NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_loop_close(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_loop_call(NULL, NULL, NULL), NTLS_EINVAL);
    CHECK(ntls_socket_get_protocol(NULL) == NULL);
    CHECK(ntls_error_code(NULL) == NULL);
    CHECK_INT(ntls_error_status(NULL), NTLS_EINVAL);
    ntls_socket_unref(NULL);
    ntls_server_unref(NULL);
    ntls_options_unref(NULL);
    ntls_context_unref(NULL);
    CHECK(ntls_strerror(-123456) != NULL);
    CHECK_STR(ntls_err_name(-123456), "UNKNOWN");
    CHECK_STR(ntls_err_name(NTLS_ECONNREFUSED), "ECONNREFUSED");
    CHECK_STR(ntls_err_name(NTLS_EAI_NONAME), "ENOTFOUND");
    CHECK_STR(ntls_strerror(NTLS_EINVAL), "invalid argument");
    CHECK_INT(NTLS_EINVAL, -22);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", NTLS_VERSION_MAJOR, NTLS_VERSION_MINOR, NTLS_VERSION_PATCH);
    CHECK_STR(ntls_version(), v);
}

static void check_options(void) {
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    CHECK_INT(ntls_options_set_int(o, 9999, 1), NTLS_EINVAL);
    CHECK(strstr(ntls_options_last_error(o), "unknown option") != NULL);
    CHECK_INT(ntls_options_set_bool(o, NTLS_OPT_HOST, 1), NTLS_EINVAL);
    CHECK_STR(ntls_options_last_error(o), "option 'host' takes a string, not a bool");
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_HOST, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_option_by_name("rejectUnauthorized"), NTLS_OPT_REJECT_UNAUTHORIZED);
    CHECK_INT(ntls_option_by_name("ALPNProtocols"), NTLS_OPT_ALPN_PROTOCOLS);
    CHECK_INT(ntls_option_by_name("rejectUnauthorised"), NTLS_EINVAL);
    CHECK_INT(ntls_option_by_name(NULL), NTLS_EINVAL);
    CHECK_INT(ntls_options_key(o, "ALPNProtocols"), NTLS_OPT_ALPN_PROTOCOLS);
    CHECK_INT(ntls_options_key(o, "rejectUnauthorised"), NTLS_EINVAL);
    CHECK_STR(ntls_options_last_error(o), "unknown option 'rejectUnauthorised'");
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_NPN_PROTOCOLS, "h2"), NTLS_ENOTSUP);
    CHECK_STR(ntls_options_last_error(o), "NPN is not supported; use ALPNProtocols");

    /* connect-time checks happen in the call, with words on the options and the socket */
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    CHECK_INT(ntls_socket_connect(s, o), NTLS_EINVAL);
    CHECK_STR(ntls_options_last_error(o), "port is required");
    CHECK_STR(ntls_socket_last_error(s), "port is required");
    ntls_options_set_int(o, NTLS_OPT_PORT, 70000);
    CHECK_INT(ntls_socket_connect(s, o), NTLS_EINVAL);
    CHECK(strstr(ntls_options_last_error(o), "port must be") != NULL);
    ntls_options_set_int(o, NTLS_OPT_PORT, 443);
    ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, "h2,,");
    ntls_options_add_bytes(o, NTLS_OPT_ALPN_PROTOCOLS, (const uint8_t *)"", 0);
    CHECK_INT(ntls_socket_connect(s, o), NTLS_EINVAL);
    CHECK(strstr(ntls_options_last_error(o), "ALPNProtocols") != NULL);
    CHECK_INT(ntls_socket_destroy(s), 0); /* never started: close still fires, on the loop */
    CHECK_INT(ntls_socket_destroy(s), NTLS_EALREADY);
    ntls_socket_unref(s);
    ntls_options_unref(o);
}

/* Each broken key setup fails at ntls_context_new with its own words. */
static const char *context_error(const char *key, const char *cert) {
    static char words[256];
    ntls_options *o;
    ntls_options_new(&o);
    if (key) tu_add_pem(o, NTLS_OPT_KEY, key);
    if (cert) tu_add_pem(o, NTLS_OPT_CERT, cert);
    ntls_context *ctx = NULL;
    int rc = ntls_context_new(o, &ctx);
    CHECK_INT(rc, NTLS_EKEY);
    CHECK(ctx == NULL);
    snprintf(words, sizeof words, "%s", ntls_options_last_error(o));
    ntls_server *srv = NULL;
    CHECK_INT(ntls_server_new(NULL, o, &srv), NTLS_EKEY); /* the same check for servers */
    ntls_options_unref(o);
    return words;
}

static void check_key_material(void) {
    char broken[256], nokey[256], mismatch[256], nocert[256], notakey[256];
    snprintf(broken, sizeof broken, "%s", context_error("server-ec-key.pem", "broken-cert.pem"));
    snprintf(nokey, sizeof nokey, "%s", context_error(NULL, "server-ec-cert.pem"));
    snprintf(nocert, sizeof nocert, "%s", context_error("server-ec-key.pem", NULL));
    snprintf(mismatch, sizeof mismatch, "%s", context_error("other-key.pem", "server-ec-cert.pem"));
    snprintf(notakey, sizeof notakey, "%s", context_error("server-ec-cert.pem", "server-ec-cert.pem"));
    printf("broken PEM:   %s\nmissing key:  %s\nmissing cert: %s\nmismatch:     %s\nnot a key:    %s\n",
           broken, nokey, nocert, mismatch, notakey);
    CHECK(strstr(broken, "cert") != NULL);
    CHECK_STR(nokey, "cert given without key");
    CHECK_STR(nocert, "key given without cert");
    CHECK_STR(mismatch, "key does not match certificate");
    CHECK(strstr(notakey, "no private key") != NULL);
    CHECK(strcmp(broken, nokey) && strcmp(broken, mismatch) && strcmp(nokey, mismatch) && strcmp(notakey, broken));
}

/* A callback that destroys its own socket, and one that tries to close its own loop. */
static atomic_int loop_close_status = 1, destroyed_in_callback;
static ntls_loop *own_loop;

static void destroy_on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)buf, (void)len, (void)d;
    atomic_store(&loop_close_status, ntls_loop_close(own_loop));
    CHECK_INT(ntls_socket_destroy(s), 0);
    CHECK_INT(ntls_socket_destroy(s), NTLS_EALREADY);
    CHECK_INT(ntls_socket_write(s, "x", 1, NULL, NULL), NTLS_ECLOSED);
    atomic_fetch_add(&destroyed_in_callback, 1);
}

static atomic_int server_side_closed;
static void count_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_fetch_add(&server_side_closed, 1);
}

static void destroying_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    ntls_socket_on_close(s, count_close);
    ntls_socket_on_data(s, destroy_on_data);
}

static void check_callbacks(void) {
    CHECK_INT(ntls_loop_new(&own_loop), 0);
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(own_loop, so, &srv), 0);
    ntls_server_on_secure_connection(srv, destroying_secure);
    int port = tu_listen(srv);
    tu_client c;
    c.send_on_secure = "boom";
    c.hold = 0;
    tu_client_connect(&c, NULL, port, NULL);
    tu_client_wait_closed(&c, 5000);
    WAIT_FOR(atomic_load(&server_side_closed) == 1, 5000);
    tu_sleep_ms(20);
    CHECK_INT(atomic_load(&server_side_closed), 1); /* exactly once */
    CHECK_INT(atomic_load(&destroyed_in_callback), 1);
    CHECK_INT(atomic_load(&loop_close_status), NTLS_EBUSY);
    CHECK_INT(ntls_socket_end(c.s), NTLS_ECLOSED);
    tu_client_free(&c);
    tu_close_server(srv);
    ntls_server_unref(srv);
    CHECK_INT(ntls_loop_close(own_loop), 0);
    ntls_loop_unref(own_loop);
    ntls_options_unref(so);
    CHECK_INT(ntls_loop_close(ntls_default_loop()), NTLS_EPERM);
}

/* Writes from a second thread while the loop runs: every byte echoed, in order. */
#define MESSAGES 2000
static atomic_int writes_done;

static void *writer(void *arg) {
    ntls_socket *s = arg;
    char msg[16];
    for (int i = 0; i < MESSAGES; i++) {
        snprintf(msg, sizeof msg, "%07d;", i);
        CHECK(ntls_socket_write(s, msg, 8, NULL, NULL) >= 0);
    }
    atomic_store(&writes_done, 1);
    return NULL;
}

static char echoed[MESSAGES * 8 + 1];
static atomic_size_t echoed_len;
static void collect(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)s, (void)d;
    size_t at = atomic_load(&echoed_len);
    CHECK(at + len <= sizeof echoed);
    memcpy(echoed + at, buf, len);
    atomic_store(&echoed_len, at + len);
}

static atomic_int thread_client_secure;
static void thread_client_on_secure(ntls_socket *s, void *d) {
    (void)s, (void)d;
    atomic_store(&thread_client_secure, 1);
}

static atomic_int late_status;
static char late_code[64];
static void late_write_done(ntls_socket *s, int status, void *arg) {
    (void)s, (void)arg;
    CHECK(late_code[0] == 0); /* the callback comes before the error event, as in Node */
    atomic_store(&late_status, status);
}
static void late_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s, (void)d;
    snprintf(late_code, sizeof late_code, "%s", ntls_error_code(err));
}

static atomic_int late_write_returned = 1;
static void end_then_write(void *arg) {
    ntls_socket *s = arg;
    CHECK_INT(ntls_socket_end(s), 0);
    atomic_store(&late_write_returned, ntls_socket_write(s, "late", 4, late_write_done, NULL));
    CHECK_STR(ntls_socket_last_error(s), "write after end");
}

static void check_threads(void) {
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    ntls_options *o;
    ntls_options_new(&o);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_int(o, NTLS_OPT_PORT, e.port);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_on_secure_connect(s, thread_client_on_secure);
    ntls_socket_on_data(s, collect);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    CHECK_INT(ntls_socket_connect(s, o), NTLS_EALREADY);
    pthread_t t1;
    pthread_create(&t1, NULL, writer, s); /* writes start before the handshake finishes */
    pthread_join(t1, NULL);
    WAIT_FOR(atomic_load(&echoed_len) == MESSAGES * 8, 20000);
    for (int i = 0; i < MESSAGES; i++) {
        char want[16];
        snprintf(want, sizeof want, "%07d;", i);
        CHECK(memcmp(echoed + i * 8, want, 8) == 0);
    }
    CHECK_INT(ntls_socket_renegotiate(s), NTLS_ENOTSUP);
    CHECK(strstr(ntls_socket_last_error(s), "renegotiation") != NULL);
    /* Node's write after end: false now, then the callback and an error event get
     * ERR_STREAM_WRITE_AFTER_END and the socket is destroyed. On the loop's thread, so
     * that the close the peer answers our end with cannot come in between. */
    ntls_socket_on_error(s, late_error);
    CHECK_INT(ntls_loop_call(ntls_default_loop(), end_then_write, s), 0);
    WAIT_FOR(atomic_load(&late_write_returned) != 1, 5000);
    CHECK_INT(atomic_load(&late_write_returned), 0);
    CHECK_INT(ntls_socket_end(s), NTLS_EALREADY);
    CHECK_STR(ntls_socket_last_error(s), "end already called");
    WAIT_FOR(atomic_load(&late_status) != 0 && late_code[0] != 0, 5000);
    CHECK_INT(atomic_load(&late_status), NTLS_EWRITE_AFTER_END);
    CHECK_STR(late_code, "ERR_STREAM_WRITE_AFTER_END");
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    CHECK_INT(ntls_socket_write(s, "later", 5, late_write_done, NULL), NTLS_EWRITE_AFTER_END); /* closed */
    tu_echo_stop(&e);
    ntls_socket_unref(s);
    ntls_options_unref(o);
    ntls_options_unref(so);
}

/* A port in use: the error event with EADDRINUSE, and the listen callback gets the status. */
static atomic_int listen_err, error_events;
static void record_listen(ntls_server *srv, int status, void *d) {
    (void)srv, (void)d;
    atomic_store(&listen_err, status == 0 ? 1 : status);
}
static char addr_in_use_message[128];
static void record_error(ntls_server *srv, const ntls_error *err, void *d) {
    (void)srv, (void)d;
    CHECK_STR(ntls_error_code(err), "EADDRINUSE");
    snprintf(addr_in_use_message, sizeof addr_in_use_message, "%s", ntls_error_message(err));
    atomic_fetch_add(&error_events, 1);
}

static void check_addr_in_use(void) {
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    ntls_server *second;
    CHECK_INT(ntls_server_new(NULL, so, &second), 0);
    ntls_server_on_error(second, record_error);
    CHECK_INT(ntls_server_listen(second, "127.0.0.1", e.port, record_listen), 0);
    WAIT_FOR(atomic_load(&listen_err) != 0, 5000);
    CHECK_INT(atomic_load(&listen_err), NTLS_EADDRINUSE);
    CHECK_INT(atomic_load(&error_events), 1);
    CHECK_INT(ntls_server_address(second, NULL, 0, NULL, NULL), NTLS_ENOTCONN);
    /* reusePort: two servers share one port (Node's cluster pattern across loops). */
    ntls_options_set_bool(so, NTLS_OPT_REUSE_PORT, 1);
    ntls_server *a, *b;
    CHECK_INT(ntls_server_new(NULL, so, &a), 0);
    CHECK_INT(ntls_server_new(NULL, so, &b), 0);
    int pa = tu_listen(a);
    atomic_store(&listen_err, 0);
    CHECK_INT(ntls_server_listen(b, "127.0.0.1", pa, record_listen), 0);
    WAIT_FOR(atomic_load(&listen_err) != 0, 5000);
    CHECK_INT(atomic_load(&listen_err), 1);
    char want[128];
    snprintf(want, sizeof want, "listen EADDRINUSE: address already in use 127.0.0.1:%d", e.port);
    CHECK_STR(addr_in_use_message, want);
    tu_close_server(a);
    CHECK_INT(ntls_server_address(a, NULL, 0, NULL, NULL), NTLS_ENOTCONN); /* null after close */
    tu_close_server(b);
    ntls_server_unref(a);
    ntls_server_unref(b);
    /* an unknown host: ENOTFOUND, as Node's getaddrinfo error */
    atomic_store(&listen_err, 0);
    ntls_server *third;
    CHECK_INT(ntls_server_new(NULL, so, &third), 0);
    CHECK_INT(ntls_server_listen(third, "nonexistent.invalid", 0, record_listen), 0);
    WAIT_FOR(atomic_load(&listen_err) != 0, 20000);
    CHECK_INT(atomic_load(&listen_err), NTLS_EAI_NONAME);
    ntls_server_unref(third);
    tu_echo_stop(&e);
    ntls_server_unref(second);
    ntls_options_unref(so);
}

int main(void) {
    tu_init(60);
    check_nulls();
    check_options();
    check_key_material();
    check_callbacks();
    check_threads();
    check_addr_in_use();
    printf("misuse handled\n");
    return 0;
}
