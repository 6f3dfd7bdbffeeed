/* server.setSecureContext: a running server's certificate is replaced without dropping
 * connections. An openssl s_client connected before the change keeps echoing through it;
 * s_clients connecting after get the new certificate (ECDSA -> RSA); bad options change
 * nothing and say why. */
#include "test_util.h"

#include <unistd.h>

static int signature_is(int port, const char *want) {
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    "-verify_return_error", "-servername", "localhost", NULL};
    return tu_run_count(argv, 0, "Peer signature type", want) > 0;
}

static void echoes(tu_child *c, const char *word) {
    char msg[64], line[256];
    snprintf(msg, sizeof msg, "%s\n", word);
    tu_write_child(c, msg);
    /* s_client -quiet may print a few words of its own first. */
    for (int i = 0; i < 10; i++) {
        CHECK(tu_read_line(c, line, sizeof line, 5000));
        if (strcmp(line, word) == 0) return;
    }
    CHECK_STR(line, word);
}

int main(void) {
    tu_init(60);
    tu_echo_server e;
    tu_echo_start(&e, NULL, tu_server_options("server-ec"));
    CHECK(signature_is(e.port, "ECDSA"));

    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", e.port);
    char *argv[] = {"openssl", "s_client", "-quiet", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    "-verify_return_error", "-servername", "localhost", NULL};
    tu_child before;
    tu_spawn(&before, argv);
    echoes(&before, "before");

    CHECK_INT(ntls_server_set_secure_context(NULL, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_server_set_secure_context(e.srv, NULL), NTLS_EINVAL);
    /* A key that does not match: refused, with words; the old certificate stays. */
    ntls_options *bad;
    ntls_options_new(&bad);
    tu_add_pem(bad, NTLS_OPT_KEY, "server-rsa-key.pem");
    tu_add_pem(bad, NTLS_OPT_CERT, "server-ec-cert.pem");
    int rc = ntls_server_set_secure_context(e.srv, bad);
    CHECK(rc < 0);
    printf("mismatched key refused: %s (%s)\n", ntls_err_name(rc), ntls_server_last_error(e.srv));
    CHECK(strlen(ntls_options_last_error(bad)) > 0);
    ntls_options_unref(bad);
    CHECK(signature_is(e.port, "ECDSA"));

    ntls_options *rsa = tu_server_options("server-rsa");
    CHECK_INT(ntls_server_set_secure_context(e.srv, rsa), 0);
    ntls_options_unref(rsa);
    CHECK(signature_is(e.port, "RSA"));
    printf("after setSecureContext: new clients get the RSA certificate\n");
    echoes(&before, "still-here");
    CHECK_INT(atomic_load(&e.client_errors), 0);
    printf("the client connected before keeps its connection\n");
    close(before.in_fd);
    tu_wait_child(&before, 5000);

    ntls_server *kept = e.srv;
    ntls_server_ref(kept);
    tu_echo_stop(&e);
    ntls_options *again = tu_server_options("server-ec");
    CHECK_INT(ntls_server_set_secure_context(kept, again), NTLS_ECLOSED);
    ntls_options_unref(again);
    ntls_server_unref(kept);
    printf("setSecureContext ok\n");
    return 0;
}
