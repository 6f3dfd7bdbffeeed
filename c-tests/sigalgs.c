/* `sigalgs` and getSharedSigalgs() with peers we did not write:
 * - openssl s_client offering only RSA-PSS+SHA384 to our RSA server limited to it: the
 *   server signs with it (s_client's "Peer signing digest"), and shows that one shared;
 * - s_client offering only ECDSA+SHA256 to that server: no scheme in common, so the client
 *   gets a handshake_failure alert and the server's tlsClientError is OpenSSL's
 *   ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS;
 * - our client limited to RSA-PSS+SHA512 against openssl s_server (RSA): it connects, and
 *   limited to ECDSA+SHA256 it is refused with the server's handshake_failure alert;
 * - lists Node refuses are refused at creation, with words. */
#include "client_util.h"

static char shared_seen[256];

static void srv_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    const char *names[16];
    int n = ntls_socket_get_shared_sigalgs(s, names, 16);
    shared_seen[0] = 0;
    for (int k = 0; k < n && k < 16; k++)
        snprintf(shared_seen + strlen(shared_seen), sizeof shared_seen - strlen(shared_seen), "%s%s",
                 k ? "," : "", names[k]);
    ntls_socket_resume(s); /* reads on, so it sees the client leave */
    ntls_socket_end(s);
}

static void only_pss512(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_SIGALGS, "RSA-PSS+SHA512"); }
static void only_ecdsa(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_SIGALGS, "ECDSA+SHA256"); }

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *o = tu_server_options("server-rsa");
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_SIGALGS, "RSA-PSS+SHA384"), 0);
    tu_echo_start(&e, NULL, o);
    ntls_options_unref(o);
    CHECK_INT(ntls_server_on_secure_connection(e.srv, srv_secure), 0);
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", e.port);
    char *pss384[] = {"openssl", "s_client", "-connect", connect, "-sigalgs", "RSA-PSS+SHA384", NULL};
    CHECK_INT(tu_run_count(pss384, 300, "Peer signing digest: SHA384", NULL), 1);
    WAIT_FOR(shared_seen[0] != 0, 5000);
    printf("s_client offering RSA-PSS+SHA384: signed with SHA384, shared [%s]\n", shared_seen);
    CHECK_STR(shared_seen, "RSA-PSS+SHA384");

    char *ecdsa[] = {"openssl", "s_client", "-connect", connect, "-sigalgs", "ECDSA+SHA256", NULL};
    CHECK_INT(tu_run_count(ecdsa, 300, "handshake failure", NULL), 1);
    WAIT_FOR(e.last_client_error[0] != 0, 5000);
    printf("s_client offering ECDSA+SHA256 only: alert handshake failure; server: %s\n", e.last_client_error);
    CHECK(strstr(e.last_client_error, "ERR_SSL_NO_SHARED_SIGNATURE_ALGORITHMS") != NULL);
    tu_echo_stop(&e);

    int p = tu_closed_port();
    char port[16];
    snprintf(port, sizeof port, "%d", p);
    char *argv[] = {"openssl", "s_server", "-accept", port, "-key", (char *)tu_cert("server-rsa-key.pem"),
                    "-cert", (char *)tu_cert("server-rsa-cert.pem"), "-rev", "-naccept", "2", NULL};
    tu_child srv;
    CHECK(tu_spawn_ready(&srv, argv, "ACCEPT", 10000));
    tu_client c;
    memset(&c, 0, sizeof c);
    c.send_on_secure = "sigalgs\n";
    c.hold = 1;
    tu_client_connect(&c, NULL, p, only_pss512);
    WAIT_FOR(strstr(c.received, "sglagis") != NULL, 10000);
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    ntls_socket_end(c.s);
    tu_client_wait_closed(&c, 10000);
    tu_client_free(&c);
    printf("our client limited to RSA-PSS+SHA512 against openssl s_server: authorized\n");
    memset(&c, 0, sizeof c);
    tu_client_connect(&c, NULL, p, only_ecdsa);
    tu_client_wait_closed(&c, 10000);
    printf("limited to ECDSA+SHA256 against an RSA server: %s\n", c.error_code);
    CHECK_STR(c.error_code, "ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE");
    tu_client_free(&c);
    tu_wait_child(&srv, 5000);

    const char *bad[] = {"BOGUS", "ECDSA+MD5", "ed448", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ntls_options *b = tu_server_options("server-ec");
        ntls_options_set_string(b, NTLS_OPT_SIGALGS, bad[i]);
        ntls_context *ctx = NULL;
        CHECK_INT(ntls_context_new(b, &ctx), NTLS_EINVAL);
        CHECK(strstr(ntls_options_last_error(b), "sigalgs") != NULL);
        printf("sigalgs \"%s\": %s\n", bad[i], ntls_options_last_error(b));
        ntls_options_unref(b);
    }
    return 0;
}
