/* Node's tls.connect against our server: echo both ways, ALPN agreed on both sides. */
#include "test_util.h"

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_add_string(so, NTLS_OPT_ALPN_PROTOCOLS, "h2");
    ntls_options_add_string(so, NTLS_OPT_ALPN_PROTOCOLS, "http/1.1");
    tu_echo_start(&e, NULL, so);
    char port[16], script[512], line[1024], v[128];
    snprintf(port, sizeof port, "%d", e.port);
    snprintf(script, sizeof script, "%s/node_client.js", tu_peers_dir());
    char *argv[] = {"node", script, port, (char *)tu_cert("ca-cert.pem"), "http/1.1", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, sizeof line, 30000));
    printf("node: %s\n", line);
    CHECK(tu_json(line, "authorized", v, sizeof v));
    CHECK_STR(v, "true");
    tu_json(line, "alpn", v, sizeof v);
    CHECK_STR(v, "http/1.1");
    tu_json(line, "protocol", v, sizeof v);
    CHECK_STR(v, "TLSv1.3");
    tu_json(line, "echo_ok", v, sizeof v);
    CHECK_STR(v, "true");
    tu_json(line, "subject", v, sizeof v);
    CHECK_STR(v, "localhost");
    CHECK_INT(tu_wait_child(&c, 10000), 0);
    CHECK_STR(e.last_alpn, "http/1.1");
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
