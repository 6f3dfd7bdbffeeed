/* Key material beyond plain PEM: encrypted PKCS#8 and legacy encrypted PEM (with the
 * context passphrase or each key's own), several keys of different algorithms chosen by
 * what the client verifies, PKCS#12, and CRLs giving CERT_REVOKED. */
#include "client_util.h"

#include <unistd.h>

static const char *context_words(ntls_options *o) {
    static char words[256];
    ntls_context *ctx = NULL;
    int rc = ntls_context_new(o, &ctx);
    snprintf(words, sizeof words, "%s", rc == 0 ? "ok" : ntls_options_last_error(o));
    if (rc == 0) ntls_context_unref(ctx);
    else CHECK_INT(rc, NTLS_EKEY);
    return words;
}

static void add_file(ntls_options *o, int key, const char *name) { tu_add_pem(o, key, name); }

static const char *crl_file, *client_cert;
static void add_crl(ntls_options *o) {
    if (crl_file) add_file(o, NTLS_OPT_CRL, crl_file);
    if (client_cert) {
        char key[64], cert[64];
        snprintf(key, sizeof key, "%s-key.pem", client_cert);
        snprintf(cert, sizeof cert, "%s-cert.pem", client_cert);
        add_file(o, NTLS_OPT_KEY, key);
        add_file(o, NTLS_OPT_CERT, cert);
    }
}

static void serves(ntls_options *so, const char *what) {
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    tu_client c;
    c.send_on_secure = "key";
    c.hold = 0;
    tu_client_connect(&c, NULL, e.port, NULL);
    tu_client_wait_closed(&c, 5000);
    CHECK_STR(c.received, "key");
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    tu_client_free(&c);
    tu_echo_stop(&e);
    printf("%-40s serves\n", what);
}

static ntls_options *with(const char *key, const char *cert, const char *passphrase) {
    ntls_options *o;
    ntls_options_new(&o);
    if (key) add_file(o, NTLS_OPT_KEY, key);
    if (cert) add_file(o, NTLS_OPT_CERT, cert);
    if (passphrase) ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, passphrase);
    return o;
}

/* Which certificate openssl s_client gets when it verifies only `sigalgs` (or, with
 * `tls12_cipher`, speaks TLS 1.2 offering only that suite and every sigalg). */
static int peer_sig_is_with(int port, const char *sigalgs, const char *tls12_cipher, const char *want) {
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    tls12_cipher ? "-tls1_2" : "-sigalgs", tls12_cipher ? "-cipher" : (char *)sigalgs,
                    (char *)tls12_cipher, NULL};
    return tu_run_count(argv, 0, "Peer signature type", want) > 0;
}

static int peer_sig_is(int port, const char *sigalgs, const char *want) {
    return peer_sig_is_with(port, sigalgs, NULL, want);
}

int main(void) {
    tu_init(60);
    ntls_options *o;

    o = with("server-rsa-key-enc.pem", "server-rsa-cert.pem", "secret");
    serves(o, "encrypted PKCS#8 + passphrase");
    ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, "wrong");
    printf("wrong passphrase:   %s\n", context_words(o));
    CHECK(strstr(context_words(o), "passphrase") != NULL);
    ntls_options_unref(o);
    o = with("server-rsa-key-enc.pem", "server-rsa-cert.pem", NULL);
    printf("missing passphrase: %s\n", context_words(o));
    CHECK(strstr(context_words(o), "passphrase") != NULL);
    ntls_options_unref(o);
    o = with("server-rsa-key-legacy-aes256.pem", "server-rsa-cert.pem", "secret");
    serves(o, "legacy Proc-Type AES-256 PEM");
    ntls_options_unref(o);
    o = with("dsa-key.pem", "server-rsa-cert.pem", NULL);
    printf("DSA key:            %s\n", context_words(o));
    CHECK(strstr(context_words(o), "DSA") != NULL);
    ntls_options_unref(o);

    /* Two keys, each with its own passphrase; the handshake picks what the client verifies. */
    ntls_options_new(&o);
    size_t n;
    char *pem = tu_read_file(tu_cert("server-rsa-key-enc.pem"), &n);
    CHECK_INT(ntls_options_add_key(o, (const uint8_t *)pem, n, "secret"), 0);
    free(pem);
    pem = tu_read_file(tu_cert("server-ec-key-legacy-aes128.pem"), &n);
    CHECK_INT(ntls_options_add_key(o, (const uint8_t *)pem, n, "secret"), 0);
    free(pem);
    add_file(o, NTLS_OPT_CERT, "server-rsa-cert.pem");
    add_file(o, NTLS_OPT_CERT, "server-ec-cert.pem");
    tu_echo_server e;
    tu_echo_start(&e, NULL, o);
    CHECK(peer_sig_is(e.port, "ECDSA+SHA256", "ECDSA"));
    CHECK(peer_sig_is(e.port, "rsa_pss_rsae_sha256", "RSA-PSS"));
    /* A TLS 1.2 client that offers only one kind of suite, with every sigalg: OpenSSL
     * picks the key by suite, and so must we (by signature schemes alone it would get the
     * first key and fail with no shared cipher). */
    CHECK(peer_sig_is_with(e.port, NULL, "ECDHE-RSA-AES128-GCM-SHA256", "RSA"));
    CHECK(peer_sig_is_with(e.port, NULL, "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDSA"));
    printf("%-40s picks ECDSA or RSA by the client's sigalgs\n", "RSA + ECDSA keys on one context");
    tu_echo_stop(&e);
    ntls_options_unref(o);

    /* PKCS#12 */
    ntls_options_new(&o);
    add_file(o, NTLS_OPT_PFX, "server-rsa.pfx");
    ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, "secret");
    serves(o, "pfx (OpenSSL 3 default)");
    ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, "nope");
    char wrong[256];
    snprintf(wrong, sizeof wrong, "%s", context_words(o));
    printf("pfx wrong passphrase: %s\n", wrong);
    ntls_options_unref(o);
    ntls_options_new(&o);
    add_file(o, NTLS_OPT_PFX, "server-ec-legacy.pfx");
    ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, "secret");
    serves(o, "pfx (-legacy)");
    ntls_options_unref(o);
    ntls_options_new(&o);
    add_file(o, NTLS_OPT_PFX, "ca-only.pfx");
    ntls_options_set_string(o, NTLS_OPT_PASSPHRASE, "secret");
    char nokey[256];
    snprintf(nokey, sizeof nokey, "%s", context_words(o));
    printf("pfx without a key:  %s\n", nokey);
    ntls_options_unref(o);
    ntls_options_new(&o);
    add_file(o, NTLS_OPT_PFX, "ca-cert.pem");
    char corrupt[256];
    snprintf(corrupt, sizeof corrupt, "%s", context_words(o));
    printf("corrupt pfx:        %s\n", corrupt);
    ntls_options_unref(o);
    CHECK(strcmp(wrong, "ok") && strcmp(nokey, "ok") && strcmp(corrupt, "ok"));
    CHECK(strcmp(wrong, nokey) && strcmp(nokey, corrupt) && strcmp(wrong, corrupt));

    /* CRLs: a revoked server certificate, and a revoked client certificate. */
    o = with("revoked-key.pem", "revoked-cert.pem", NULL);
    tu_echo_start(&e, NULL, o);
    ntls_options_unref(o);
    tu_client c;
    c.send_on_secure = "crl";
    c.hold = 0;
    crl_file = "ca-crl.pem";
    tu_client_connect(&c, NULL, e.port, add_crl);
    tu_client_wait_closed(&c, 5000);
    printf("revoked server, client with the CRL: %s\n", c.error_code);
    CHECK_STR(c.error_code, "CERT_REVOKED");
    tu_client_free(&c);
    crl_file = "ca-crl-empty.pem";
    tu_client_connect(&c, NULL, e.port, add_crl);
    tu_client_wait_closed(&c, 5000);
    CHECK_STR(c.received, "crl");
    tu_client_free(&c);
    tu_echo_stop(&e);

    o = tu_server_options("server-ec");
    add_file(o, NTLS_OPT_CA, "ca-cert.pem");
    add_file(o, NTLS_OPT_CRL, "ca-crl.pem");
    ntls_options_set_bool(o, NTLS_OPT_REQUEST_CERT, 1);
    tu_echo_start(&e, NULL, o);
    ntls_options_unref(o);
    crl_file = NULL;
    client_cert = "revoked";
    tu_client_connect(&c, NULL, e.port, add_crl);
    tu_client_wait_closed(&c, 5000);
    CHECK_INT(atomic_load(&c.errors), 1); /* the alert, after the client was secure */
    WAIT_FOR(atomic_load(&e.client_errors) == 1, 5000);
    printf("revoked client certificate: server says %s\n", e.last_client_error);
    CHECK_STR(e.last_client_error, "CERT_REVOKED");
    tu_client_free(&c);
    client_cert = "client";
    tu_client_connect(&c, NULL, e.port, add_crl);
    tu_client_wait_closed(&c, 5000);
    CHECK_STR(c.received, "crl");
    tu_client_free(&c);
    tu_echo_stop(&e);
    o = with("server-ec-key.pem", "server-ec-cert.pem", NULL);
    add_file(o, NTLS_OPT_CRL, "ca-cert.pem");
    printf("a certificate given as crl: %s\n", context_words(o));
    CHECK(strstr(context_words(o), "crl") != NULL);
    ntls_options_unref(o);
    printf("key material handled\n");
    return 0;
}
