/* Every key format serves a handshake: PKCS#8 and PKCS#1 RSA, SEC1 and PKCS#8 EC, Ed25519;
 * through ntls_context_new and the secureContext option. */
#include "client_util.h"

static void serve_with(const char *key, const char *cert) {
    ntls_options *ko;
    ntls_options_new(&ko);
    tu_add_pem(ko, NTLS_OPT_KEY, key);
    tu_add_pem(ko, NTLS_OPT_CERT, cert);
    ntls_context *ctx = NULL;
    int rc = ntls_context_new(ko, &ctx);
    if (rc != 0) fprintf(stderr, "%s: %s\n", key, ntls_options_last_error(ko));
    CHECK_INT(rc, 0);
    ntls_options *so;
    ntls_options_new(&so);
    CHECK_INT(ntls_options_set_context(so, NTLS_OPT_SECURE_CONTEXT, ctx), 0);
    ntls_context_unref(ctx); /* the options keep their own reference */
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    tu_client c;
    c.send_on_secure = "key formats";
    c.hold = 0;
    tu_client_connect(&c, NULL, e.port, NULL);
    tu_client_wait_closed(&c, 10000);
    CHECK_INT(atomic_load(&c.had_error), 0);
    CHECK_STR(c.received, "key formats");
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    ntls_cert *peer = c.peer; /* taken when secure */
    CHECK(peer != NULL);
    /* The server sent its leaf alone; as in Node, the detailed chain links up to the root
     * of the client's ca, whose issuer is itself. */
    CHECK(strstr(ntls_cert_to_json(peer), "\"issuerCertificate\"") != NULL);
    CHECK(strstr(ntls_cert_to_json(peer), "nodetls Test CA") != NULL);
    CHECK(strstr(ntls_cert_subject(peer), "CN=localhost") != NULL);
    printf("%-28s ok\n", key);
    tu_client_free(&c);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    ntls_options_unref(ko);
}

int main(void) {
    tu_init(60);
    serve_with("server-rsa-key.pem", "server-rsa-cert.pem");
    serve_with("server-rsa-key-pkcs1.pem", "server-rsa-cert.pem");
    serve_with("server-ec-key.pem", "server-ec-cert.pem");
    serve_with("server-ec-key-sec1.pem", "server-ec-cert.pem");
    serve_with("server-ed25519-key.pem", "server-ed25519-cert.pem");
    return 0;
}
