/* Attacks the claim that getters answer honestly on bad handles: a boolean getter
 * (authorized, encrypted, isSessionReused) and server.connections must never be truthy when
 * they fail — `if (ntls_socket_authorized(NULL))` must not pass, so they return 0, not a
 * negative status. Every other getter of the header is called with NULL too: pointer getters
 * give NULL or a static string, status getters a negative code, counts 0, and none crashes.
 * The same booleans on an unstarted socket and on closed ones (after their close event). */
#include "client_util.h"

static int failures;
#define EXPECT(cond)                                                                   \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);           \
            failures++;                                                                \
        }                                                                              \
    } while (0)
#define EXPECT_INT(a, b)                                                                          \
    do {                                                                                          \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                     \
        if (va_ != vb_) {                                                                         \
            fprintf(stderr, "%s:%d: FAIL: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, va_, vb_); \
            failures++;                                                                           \
        }                                                                                         \
    } while (0)

/* NULL, or a readable NUL-terminated string. */
static int null_or_string(const char *p) {
    if (!p) return 1;
    size_t n = 0;
    while (n < 1024 && p[n]) n++;
    return n < 1024;
}

static void null_handles(void) {
    /* The booleans: 0, never a (truthy) negative status. */
    EXPECT_INT(ntls_socket_authorized(NULL), 0);
    EXPECT_INT(ntls_socket_encrypted(NULL), 0);
    EXPECT_INT(ntls_socket_readable(NULL), 0);
    EXPECT_INT(ntls_socket_writable(NULL), 0);
    EXPECT(ntls_socket_buffer_size(NULL) == NTLS_EINVAL);
    EXPECT_INT(ntls_socket_destroy_soon(NULL), NTLS_EINVAL);
    EXPECT_INT(ntls_socket_set_keep_alive(NULL, 1, 1000), NTLS_EINVAL);
    EXPECT_INT(ntls_socket_is_session_reused(NULL), 0);
    EXPECT_INT(ntls_server_connections(NULL), 0);

    /* Pointer getters: NULL, or a static string. */
    EXPECT(ntls_socket_authorization_error(NULL) == NULL);
    EXPECT(ntls_socket_get_protocol(NULL) == NULL);
    EXPECT(ntls_socket_alpn_protocol(NULL) == NULL);
    EXPECT(ntls_socket_servername(NULL) == NULL);
    EXPECT(ntls_socket_get_data(NULL) == NULL);
    EXPECT(ntls_server_get_data(NULL) == NULL);
    EXPECT(null_or_string(ntls_socket_last_error(NULL)));
    EXPECT(null_or_string(ntls_options_last_error(NULL)));
    EXPECT(ntls_cert_subject(NULL) == NULL);
    EXPECT(ntls_cert_issuer(NULL) == NULL);
    EXPECT(ntls_cert_subjectaltname(NULL) == NULL);
    EXPECT(ntls_cert_valid_from(NULL) == NULL);
    EXPECT(ntls_cert_valid_to(NULL) == NULL);
    EXPECT(ntls_cert_fingerprint256(NULL) == NULL);
    EXPECT(ntls_cert_serial_number(NULL) == NULL);
    EXPECT(ntls_cert_to_json(NULL) == NULL);
    EXPECT(ntls_error_code(NULL) == NULL);
    EXPECT(ntls_error_message(NULL) == NULL);
    /* Static, never NULL, whatever the code. */
    int codes[] = {0, NTLS_EINVAL, NTLS_ECLOSED, -1000000, 1000000, -2147483647 - 1};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        EXPECT(ntls_strerror(codes[i]) != NULL && null_or_string(ntls_strerror(codes[i])));
        EXPECT(ntls_err_name(codes[i]) != NULL && null_or_string(ntls_err_name(codes[i])));
    }
    EXPECT(ntls_version() != NULL);

    /* Status getters: a negative code, out-pointers untouched (or cleared). */
    EXPECT_INT(ntls_error_status(NULL), NTLS_EINVAL);
    const char *sentinel = "untouched";
    const char *n1 = sentinel, *n2 = sentinel, *n3 = sentinel;
    EXPECT(ntls_socket_get_cipher(NULL, &n1, &n2, &n3) < 0);
    EXPECT((n1 == sentinel || n1 == NULL) && (n2 == sentinel || n2 == NULL) && (n3 == sentinel || n3 == NULL));
    EXPECT(ntls_socket_get_cipher(NULL, NULL, NULL, NULL) < 0);
    int size = 12345;
    n1 = sentinel;
    EXPECT(ntls_socket_get_ephemeral_key_info(NULL, &n1, &size) < 0);
    EXPECT(n1 == sentinel || n1 == NULL);
    char host[64] = "untouched";
    int port = 7, family = 7;
    EXPECT(ntls_socket_remote_address(NULL, host, sizeof host, &port, &family) < 0);
    EXPECT(ntls_socket_local_address(NULL, host, sizeof host, &port, &family) < 0);
    EXPECT(ntls_server_address(NULL, host, sizeof host, &port, &family) < 0);
    uint8_t keys[48];
    EXPECT(ntls_server_get_ticket_keys(NULL, keys, sizeof keys) < 0);
    ntls_cert *cert = NULL;
    EXPECT(ntls_socket_get_peer_certificate(NULL, 0, &cert) < 0);
    EXPECT(cert == NULL);
    const uint8_t *der = NULL;
    size_t der_len = 99;
    EXPECT(ntls_cert_der(NULL, &der, &der_len) < 0);
    EXPECT(der == NULL);
    EXPECT(ntls_options_key(NULL, "rejectUnauthorized") < 0);
    EXPECT(ntls_option_by_name(NULL) < 0);

    /* Counts: 0. */
    EXPECT(ntls_socket_bytes_read(NULL) == 0);
    EXPECT(ntls_socket_bytes_written(NULL) == 0);
}

/* What every socket that is not secure must say. */
static void not_secure(ntls_socket *s, const char *what) {
    int a = ntls_socket_authorized(s), e = ntls_socket_encrypted(s), r = ntls_socket_is_session_reused(s);
    printf("%-28s authorized=%d encrypted=%d isSessionReused=%d\n", what, a, e, r);
    EXPECT_INT(a, 0);
    EXPECT_INT(e, 1);
    EXPECT_INT(r, 0);
    EXPECT(ntls_socket_get_protocol(s) == NULL);
    EXPECT(ntls_socket_alpn_protocol(s) == NULL);
    EXPECT(ntls_socket_get_cipher(s, NULL, NULL, NULL) < 0);
    EXPECT(ntls_socket_get_ephemeral_key_info(s, NULL, NULL) < 0);
    ntls_cert *c = NULL;
    EXPECT(ntls_socket_get_peer_certificate(s, 1, &c) < 0);
    EXPECT(c == NULL);
    EXPECT(null_or_string(ntls_socket_authorization_error(s)));
    EXPECT(null_or_string(ntls_socket_servername(s)));
    EXPECT(null_or_string(ntls_socket_last_error(s)));
}

static atomic_int closes, secure;
static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_fetch_add(&closes, 1);
}
static void on_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s, (void)err, (void)d;
}
static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    atomic_store(&secure, 1);
    ntls_socket_end(s);
}

static ntls_socket *client(int port, ntls_options **out) {
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_secure_connect(s, on_secure);
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    *out = o;
    return s;
}

int main(void) {
    tu_init(30);
    null_handles();

    /* Unstarted. */
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    not_secure(s, "unstarted socket:");
    char host[64];
    EXPECT(ntls_socket_remote_address(s, host, sizeof host, NULL, NULL) < 0);
    EXPECT(ntls_socket_bytes_read(s) == 0 && ntls_socket_bytes_written(s) == 0);

    /* Destroyed before it started, after its close event. */
    ntls_socket_on_close(s, on_close);
    CHECK_INT(ntls_socket_destroy(s), 0);
    WAIT_FOR(atomic_load(&closes) == 1, 5000);
    not_secure(s, "destroyed unstarted socket:");
    ntls_socket_unref(s);

    /* Refused (nothing listening), after its close event. */
    ntls_options *o;
    s = client(tu_closed_port(), &o);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&closes) == 2, 10000);
    not_secure(s, "refused socket, closed:");
    /* Its user data can still be cleared (a binding does so before freeing its object). */
    int marker = 0;
    EXPECT(ntls_socket_set_data(s, &marker) == 0 && ntls_socket_get_data(s) == &marker);
    EXPECT(ntls_socket_set_data(s, NULL) == 0 && ntls_socket_get_data(s) == NULL);
    EXPECT(ntls_socket_on_data(s, NULL) == NTLS_ECLOSED); /* callbacks, no: nothing more fires */
    ntls_socket_unref(s);
    ntls_options_unref(o);

    /* An unstarted server. */
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    EXPECT_INT(ntls_server_connections(srv), 0);
    EXPECT(ntls_server_address(srv, host, sizeof host, NULL, NULL) < 0);
    ntls_server_unref(srv);

    /* A socket that was secure, after its close event: the booleans stay booleans. */
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    s = client(e.port, &o);
    CHECK_INT(ntls_socket_resume(s), 0);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&closes) == 3, 10000);
    CHECK_INT(atomic_load(&secure), 1);
    int a = ntls_socket_authorized(s), r = ntls_socket_is_session_reused(s);
    printf("%-28s authorized=%d encrypted=%d isSessionReused=%d\n", "secure socket, closed:", a,
           ntls_socket_encrypted(s), r);
    EXPECT(a == 0 || a == 1);
    EXPECT(r == 0 || r == 1);
    EXPECT_INT(ntls_socket_encrypted(s), 1);
    EXPECT(null_or_string(ntls_socket_get_protocol(s)));
    EXPECT(null_or_string(ntls_socket_authorization_error(s)));
    ntls_socket_unref(s);
    ntls_options_unref(o);
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    EXPECT_INT(ntls_server_connections(e.srv), 0);
    tu_echo_stop(&e);
    ntls_options_unref(so);

    if (failures) {
        fprintf(stderr, "%d getter answer(s) wrong\n", failures);
        return 1;
    }
    printf("every getter answers honestly on NULL, unstarted and closed handles\n");
    return 0;
}
