/* Our client against `openssl s_server -rev`: the handshake's facts and a reversed line. */
#include "client_util.h"

#include <unistd.h>

static void alpn(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, "h2,http/1.1"); }

int main(void) {
    tu_init(60);
    char port[16];
    int p = tu_closed_port();
    snprintf(port, sizeof port, "%d", p);
    char *argv[] = {"openssl", "s_server", "-accept", port, "-key", (char *)tu_cert("server-ec-key.pem"),
                    "-cert", (char *)tu_cert("server-ec-cert.pem"), "-rev", "-alpn", "http/1.1",
                    "-naccept", "1", NULL};
    tu_child c;
    CHECK(tu_spawn_ready(&c, argv, "ACCEPT", 10000));
    tu_client cl;
    cl.send_on_secure = "hello openssl\n";
    cl.hold = 1;
    tu_client_connect(&cl, NULL, p, alpn);
    WAIT_FOR(strstr(cl.received, "lssnepo olleh") != NULL, 10000);
    const char *name = NULL, *standard = NULL, *version = NULL;
    CHECK_INT(ntls_socket_get_cipher(cl.s, &name, &standard, &version), 0);
    printf("protocol %s cipher %s (%s) version %s alpn %s\n", ntls_socket_get_protocol(cl.s), name, standard,
           version, ntls_socket_alpn_protocol(cl.s));
    CHECK_STR(ntls_socket_get_protocol(cl.s), "TLSv1.3");
    CHECK(strncmp(name, "TLS_", 4) == 0);
    CHECK_STR(name, standard);
    CHECK_STR(version, "TLSv1.3");
    CHECK_STR(ntls_socket_alpn_protocol(cl.s), "http/1.1");
    CHECK_INT(ntls_socket_authorized(cl.s), 1);
    const char *group = NULL;
    int bits = 0;
    CHECK_INT(ntls_socket_get_ephemeral_key_info(cl.s, &group, &bits), 0);
    printf("ephemeral key: %s %d bits\n", group, bits);
    CHECK_STR(group, "X25519"); /* OpenSSL 3.0 has no ML-KEM: the first group both know */
    CHECK_INT(bits, 253);
    char host[64];
    int rport = 0, family = 0;
    CHECK_INT(ntls_socket_remote_address(cl.s, host, sizeof host, &rport, &family), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(rport, p);
    CHECK_INT(family, 4);
    CHECK_INT(ntls_socket_end(cl.s), 0);
    tu_client_wait_closed(&cl, 10000);
    tu_client_free(&cl);
    tu_wait_child(&c, 5000);
    return 0;
}
