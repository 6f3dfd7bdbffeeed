/* Secure defaults, each against a real peer:
 *  - a client verifies by default: no ca -> UNABLE_TO_VERIFY_LEAF_SIGNATURE and never secure;
 *    the host name is checked by default (ERR_TLS_CERT_ALTNAME_INVALID); only
 *    rejectUnauthorized=false lets it through, and then authorized is 0 with the reason;
 *  - nothing below TLS 1.2: openssl s_client -tls1_1 and -tls1 with DEFAULT@SECLEVEL=0 are
 *    refused (the server's tlsClientError is ERR_SSL_UNSUPPORTED_PROTOCOL, as Node's), our
 *    client refuses an openssl s_server that speaks only TLS 1.1, and asking for TLS 1.0/1.1
 *    is NTLS_ENOTSUP;
 *  - no secret in error words: a wrong passphrase, and a corrupt encrypted key with the right
 *    one, fail with words that contain neither the passphrase nor any line of the key. */
#include "client_util.h"
#include "fault_util.h"

#include <signal.h>
#include <unistd.h>

static const char *servername = "localhost";
static int reject = 1, with_ca = 1;

static void configure(ntls_options *o) {
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, servername);
    if (!reject) ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 0);
}

/* tu_client_connect always adds the test CA; this one adds it only when asked. */
static void connect_client(tu_client *c, int port) {
    memset(c, 0, sizeof *c);
    c->send_on_secure = "x";
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    if (with_ca) tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    configure(o);
    CHECK_INT(ntls_socket_new(NULL, &c->s), 0);
    tu_client_watch(c);
    CHECK_INT(ntls_socket_connect(c->s, o), 0);
    ntls_options_unref(o);
    tu_client_wait_closed(c, 10000);
}

static void verification(int port) {
    tu_client c;
    with_ca = 0;
    connect_client(&c, port);
    printf("no ca: secure=%d error %s\n", atomic_load(&c.secure), c.error_code);
    CHECK_INT(atomic_load(&c.secure), 0);
    CHECK_STR(c.error_code, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    tu_client_free(&c);

    with_ca = 1;
    servername = "other.example.com";
    connect_client(&c, port);
    printf("ca, wrong name: secure=%d error %s\n", atomic_load(&c.secure), c.error_code);
    CHECK_INT(atomic_load(&c.secure), 0);
    CHECK_STR(c.error_code, "ERR_TLS_CERT_ALTNAME_INVALID");
    tu_client_free(&c);

    with_ca = 0;
    servername = "localhost";
    reject = 0;
    ntls_socket *seen = NULL;
    connect_client(&c, port);
    seen = c.s;
    printf("no ca, rejectUnauthorized=false: secure=%d authorized=%d authorizationError %s\n",
           atomic_load(&c.secure), ntls_socket_authorized(seen), ntls_socket_authorization_error(seen));
    CHECK_INT(atomic_load(&c.secure), 1);
    CHECK_STR(c.received, "x");
    CHECK_INT(ntls_socket_authorized(seen), 0);
    CHECK_STR(ntls_socket_authorization_error(seen), "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    tu_client_free(&c);
    reject = 1, with_ca = 1;
}

static void old_clients(fu_server *f) {
    char connect[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", f->port);
    const char *versions[] = {"-tls1_1", "-tls1"};
    for (int i = 0; i < 2; i++) {
        char *argv[] = {"openssl", "s_client", "-connect", connect, (char *)versions[i], "-cipher", "DEFAULT@SECLEVEL=0",
                        NULL};
        int none = tu_run_count(argv, 0, "Cipher is (NONE)", NULL);
        WAIT_FOR(atomic_load(&f->client_errors) == i + 1, 5000);
        char log[512];
        fu_server_take_log(f, log, sizeof log);
        printf("openssl s_client %s: %s; the client saw no cipher: %d\n", versions[i], log, none);
        CHECK_STR(log, "tlsClientError(ERR_SSL_UNSUPPORTED_PROTOCOL)");
        CHECK_INT(none, 1);
    }
    CHECK_INT(atomic_load(&f->secure), 0);
}

static void old_server(void) {
    char *argv[] = {"openssl", "s_server", "-accept", "0", "-key", (char *)tu_cert("server-ec-key.pem"), "-cert",
                    (char *)tu_cert("server-ec-cert.pem"), "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};
    tu_child ch;
    tu_spawn(&ch, argv);
    char line[256];
    int port = 0;
    while (!port && tu_read_line(&ch, line, sizeof line, 5000)) {
        const char *colon = strrchr(line, ':');
        if (strncmp(line, "ACCEPT", 6) == 0 && colon) port = atoi(colon + 1);
    }
    CHECK(port > 0);
    tu_client c;
    reject = 0; /* even with verification off, TLS 1.1 is not spoken */
    connect_client(&c, port);
    printf("our client against a TLS 1.1-only openssl s_server: secure=%d error %s\n", atomic_load(&c.secure),
           c.error_code);
    CHECK_INT(atomic_load(&c.secure), 0);
    CHECK(atomic_load(&c.errors) >= 1);
    tu_client_free(&c);
    reject = 1;
    kill(ch.pid, SIGTERM);
    tu_wait_child(&ch, 5000);
}

static void asking_for_old_versions(void) {
    struct {
        int key;
        const char *value;
    } asks[] = {{NTLS_OPT_MIN_VERSION, "TLSv1.1"}, {NTLS_OPT_MIN_VERSION, "TLSv1"},
                {NTLS_OPT_SECURE_PROTOCOL, "TLSv1_1_method"}, {NTLS_OPT_SECURE_PROTOCOL, "TLSv1_method"}};
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        ntls_options *o = tu_server_options("server-ec");
        int rc = ntls_options_set_string(o, asks[i].key, asks[i].value);
        ntls_server *srv = NULL;
        if (rc == 0) rc = ntls_server_new(NULL, o, &srv);
        printf("%s -> %s: %s\n", asks[i].value, ntls_err_name(rc), ntls_options_last_error(o));
        CHECK_INT(rc, NTLS_ENOTSUP);
        CHECK(srv == NULL);
        ntls_options_unref(o);
    }
}

/* The words of a failed context must contain neither the passphrase nor a line of the key. */
static void no_secret_in(const char *words, const char *passphrase, const char *pem) {
    CHECK(strstr(words, passphrase) == NULL);
    char line[128];
    for (const char *p = pem; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n >= 16 && n < sizeof line && strncmp(p, "-----", 5) != 0) {
            memcpy(line, p, n);
            line[n] = 0;
            CHECK(strstr(words, line) == NULL);
        }
        p += n + (nl ? 1 : 0);
    }
}

static void secrets_in_words(void) {
    size_t n;
    char *enc = tu_read_file(tu_cert("server-ec-key-enc-sha1.pem"), &n); /* passphrase "secret" */
    const char *wrong = "Wrong-Needle-Passphrase-9d2e";
    ntls_options *o = tu_server_options("server-ec");
    CHECK_INT(ntls_options_set_bytes(o, NTLS_OPT_KEY, (const uint8_t *)enc, n), 0);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, wrong), 0);
    ntls_context *ctx = NULL;
    int rc = ntls_context_new(o, &ctx);
    printf("wrong passphrase: %s: %s\n", ntls_err_name(rc), ntls_options_last_error(o));
    CHECK(rc < 0);
    no_secret_in(ntls_options_last_error(o), wrong, enc);

    /* The right passphrase, a key whose ciphertext was damaged in the middle. */
    char *broken = strdup(enc);
    char *mid = broken + n / 2;
    for (int i = 0; i < 8; i++, mid++)
        if (*mid != '\n') *mid = *mid == 'A' ? 'B' : 'A';
    CHECK_INT(ntls_options_set_bytes(o, NTLS_OPT_KEY, (const uint8_t *)broken, n), 0);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, "secret"), 0);
    rc = ntls_context_new(o, &ctx);
    printf("damaged key, right passphrase: %s: %s\n", ntls_err_name(rc), ntls_options_last_error(o));
    CHECK(rc < 0);
    no_secret_in(ntls_options_last_error(o), "secret", enc);
    ntls_server *srv = NULL;
    rc = ntls_server_new(NULL, o, &srv);
    CHECK(rc < 0);
    no_secret_in(ntls_options_last_error(o), "secret", enc);
    ntls_options_unref(o);
    free(broken);
    free(enc);
}

int main(void) {
    tu_init(60);
    fu_server f;
    ntls_options *so = tu_server_options("server-ec");
    fu_server_start(&f, NULL, so);
    verification(f.port);
    char log[1024];
    fu_server_take_log(&f, log, sizeof log);
    atomic_store(&f.secure, 0);
    atomic_store(&f.client_errors, 0);
    old_clients(&f);
    old_server();
    asking_for_old_versions();
    secrets_in_words();
    WAIT_FOR(ntls_server_connections(f.srv) == 0, 5000);
    fu_server_stop(&f);
    ntls_options_unref(so);
    printf("secure defaults hold\n");
    return 0;
}
