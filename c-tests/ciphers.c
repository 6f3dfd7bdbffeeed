/* ciphers, honorCipherOrder, ecdhCurve, the default list and getCiphers, seen by
 * `openssl s_client` (which suite and group the handshake really used). */
#include "client_util.h"

#include <unistd.h>

/* Runs s_client with extra arguments; returns the line holding `want`, or "" if absent. */
static const char *s_client(int port, char *const extra[], const char *want) {
    static char found[512];
    char connect[64], line[512];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[32] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem")};
    int n = 6;
    for (int i = 0; extra[i]; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    tu_child c;
    tu_spawn(&c, argv);
    close(c.in_fd);
    c.in_fd = -1;
    found[0] = 0;
    while (tu_read_line(&c, line, sizeof line, 5000))
        if (!found[0] && strstr(line, want)) snprintf(found, sizeof found, "%s", line);
    tu_wait_child(&c, 5000);
    return found;
}

static tu_echo_server e; /* callbacks keep its address: one at a time, never copied */

static void start(const char *ciphers, const char *curve, int honor) {
    ntls_options *so = tu_server_options("server-ec");
    if (ciphers) CHECK_INT(ntls_options_set_string(so, NTLS_OPT_CIPHERS, ciphers), 0);
    if (curve) CHECK_INT(ntls_options_set_string(so, NTLS_OPT_ECDH_CURVE, curve), 0);
    if (honor >= 0) ntls_options_set_bool(so, NTLS_OPT_HONOR_CIPHER_ORDER, honor);
    tu_echo_start(&e, NULL, so);
    ntls_options_unref(so);
}

static int refused(const char *key_name, int key, const char *value, const char *words) {
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_string(so, key, value);
    ntls_server *srv = NULL;
    int rc = ntls_server_new(NULL, so, &srv);
    printf("%s=%-10s -> %d %s\n", key_name, value, rc, ntls_options_last_error(so));
    CHECK(strstr(ntls_options_last_error(so), words) != NULL);
    ntls_options_unref(so);
    return rc;
}

int main(void) {
    tu_init(60);
    char *tls12[] = {"-tls1_2", NULL};
    start("ECDHE-ECDSA-AES256-GCM-SHA384", NULL, -1);
    CHECK(strstr(s_client(e.port, tls12, "Cipher is"), "ECDHE-ECDSA-AES256-GCM-SHA384") != NULL);
    char *other[] = {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", NULL};
    int before = atomic_load(&e.client_errors);
    s_client(e.port, other, "Cipher is");
    WAIT_FOR(atomic_load(&e.client_errors) > before, 5000);
    CHECK_STR(e.last_client_error, "ERR_SSL_NO_SHARED_CIPHER");
    tu_echo_stop(&e);

    start("TLS_CHACHA20_POLY1305_SHA256", NULL, -1); /* only TLS 1.3 names: 1.2 has none */
    CHECK(strstr(s_client(e.port, (char *[]){NULL}, "Cipher is"), "TLS_CHACHA20_POLY1305_SHA256") != NULL);
    tu_echo_stop(&e);

    start("AES128-GCM-SHA256", NULL, -1); /* a suite rustls lacks: accepted, TLS 1.2 unusable */
    CHECK(strstr(s_client(e.port, (char *[]){NULL}, "Cipher is"), "TLSv1.3") != NULL);
    before = atomic_load(&e.client_errors);
    s_client(e.port, tls12, "Cipher is");
    WAIT_FOR(atomic_load(&e.client_errors) > before, 5000);
    printf("TLS 1.2 client, no TLS 1.2 suite left: %s\n", e.last_client_error);
    tu_echo_stop(&e);

    char *client_order[] = {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256", NULL};
    start("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384", NULL, 1);
    CHECK(strstr(s_client(e.port, client_order, "Cipher is"), "AES128") != NULL); /* the server's order */
    tu_echo_stop(&e);
    start("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384", NULL, 0);
    CHECK(strstr(s_client(e.port, client_order, "Cipher is"), "AES256") != NULL); /* the client's */
    tu_echo_stop(&e);

    start(NULL, "secp384r1", -1);
    CHECK(strstr(s_client(e.port, (char *[]){NULL}, "Temp Key"), "384") != NULL);
    tu_echo_stop(&e);
    start(NULL, "P-256:X25519", -1);
    CHECK(strstr(s_client(e.port, (char *[]){"-groups", "X25519:P-256", NULL}, "Temp Key"), "X25519") != NULL);
    tu_echo_stop(&e);

    CHECK_INT(refused("ciphers", NTLS_OPT_CIPHERS, "NOPE", "no cipher match"), NTLS_ECIPHER);
    CHECK_INT(refused("ciphers", NTLS_OPT_CIPHERS, "!ALL", "ERR_SSL_NO_CIPHER_MATCH"), NTLS_ECIPHER);
    CHECK_INT(refused("ecdhCurve", NTLS_OPT_ECDH_CURVE, "bogus", "bogus"), NTLS_EINVAL);

    /* versions */
    CHECK_INT(refused("secureProtocol", NTLS_OPT_SECURE_PROTOCOL, "TLSv1_method", "TLSv1.2 and TLSv1.3"), NTLS_ENOTSUP);
    CHECK_INT(refused("minVersion", NTLS_OPT_MIN_VERSION, "TLSv1.1", "not supported"), NTLS_ENOTSUP);
    {
        ntls_options *so = tu_server_options("server-ec");
        ntls_options_set_string(so, NTLS_OPT_MIN_VERSION, "TLSv1.3");
        ntls_options_set_string(so, NTLS_OPT_SESSION_ID_CONTEXT, "my-app"); /* accepted */
        tu_echo_start(&e, NULL, so);
        ntls_options_unref(so);
        int before = atomic_load(&e.client_errors);
        s_client(e.port, tls12, "Cipher is");
        WAIT_FOR(atomic_load(&e.client_errors) > before, 5000); /* TLS 1.2 refused */
        CHECK(strstr(s_client(e.port, (char *[]){NULL}, "Cipher is"), "TLSv1.3") != NULL);
        tu_echo_stop(&e);
    }
    /* dhparam: checked as Node does, without effect */
    {
        FILE *p = popen("openssl dhparam -dsaparam 512 2>/dev/null", "r");
        char dh[4096];
        size_t n = fread(dh, 1, sizeof dh - 1, p);
        pclose(p);
        dh[n] = 0;
        CHECK(n > 0);
        ntls_options *so = tu_server_options("server-ec");
        ntls_options_set_bytes(so, NTLS_OPT_DHPARAM, (const uint8_t *)dh, n);
        ntls_server *srv = NULL;
        CHECK_INT(ntls_server_new(NULL, so, &srv), NTLS_EINVAL);
        CHECK_STR(ntls_options_last_error(so), "DH parameter is less than 1024 bits");
        CHECK_INT(ntls_options_set_bytes(so, NTLS_OPT_DHPARAM, (const uint8_t *)"auto", 4), 0);
        CHECK_INT(ntls_options_set_int(so, NTLS_OPT_MIN_DH_SIZE, 2048), 0);
        CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
        ntls_server_unref(srv);
        ntls_options_unref(so);
    }

    int total = ntls_get_ciphers(NULL, 0);
    CHECK(total >= 9);
    const char *names[64];
    CHECK_INT(ntls_get_ciphers(names, 64), total);
    int has12 = 0, has13 = 0;
    for (int i = 0; i < total && i < 64; i++) {
        has12 |= !strcmp(names[i], "ecdhe-ecdsa-aes128-gcm-sha256");
        has13 |= !strcmp(names[i], "tls_aes_128_gcm_sha256");
    }
    CHECK(has12 && has13);

    CHECK_INT(ntls_set_default_ciphers("NOPE"), NTLS_ECIPHER);
    CHECK_INT(ntls_set_default_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384"), 0);
    start(NULL, NULL, -1); /* no ciphers option: the new default applies */
    CHECK(strstr(s_client(e.port, tls12, "Cipher is"), "ECDHE-ECDSA-AES256-GCM-SHA384") != NULL);
    tu_echo_stop(&e);
    printf("ciphers, curves and defaults behave as asked\n");
    return 0;
}
