/* Our client against Node's tls.createServer: echo and ALPN, and the same certificate
 * error codes that Node's own client reports for the same certificates. */
#include "client_util.h"

#include <unistd.h>

static char node_line[2048];

static void alpn_both(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, "h2,http/1.1"); }

int main(void) {
    tu_init(60);
    char script[512], v[128], key[64];
    snprintf(script, sizeof script, "%s/node_server.js", tu_peers_dir());
    char *argv[] = {"node", script, (char *)tu_cert(""), NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, node_line, sizeof node_line, 30000));
    printf("node: %s\n", node_line);

    CHECK(tu_json(node_line, "echo", v, sizeof v));
    tu_client cl;
    cl.send_on_secure = "hello node, from nodetls";
    cl.hold = 0;
    tu_client_connect(&cl, NULL, atoi(v), alpn_both);
    tu_client_wait_closed(&cl, 10000);
    CHECK_INT(atomic_load(&cl.had_error), 0);
    CHECK_INT(atomic_load(&cl.secure), 1);
    CHECK_STR(cl.received, "hello node, from nodetls");
    CHECK_STR(ntls_socket_alpn_protocol(cl.s), "http/1.1");
    CHECK_STR(cl.protocol, "TLSv1.3");
    CHECK_INT(ntls_socket_authorized(cl.s), 1);
    tu_client_free(&cl);

    const char *names[] = {"selfsigned", "wronghost", "expired"};
    for (int i = 0; i < 3; i++) {
        char node_code[96];
        snprintf(key, sizeof key, "codes.%s", names[i]);
        CHECK(tu_json(node_line, key, node_code, sizeof node_code));
        snprintf(key, sizeof key, "ports.%s", names[i]);
        CHECK(tu_json(node_line, key, v, sizeof v));
        cl.send_on_secure = "x";
        tu_client_connect(&cl, NULL, atoi(v), NULL);
        tu_client_wait_closed(&cl, 10000);
        printf("%-10s node: %-32s nodetls: %s\n", names[i], node_code, cl.error_code);
        CHECK_STR(cl.error_code, node_code);
        tu_client_free(&cl);
    }
    close(c.in_fd);
    CHECK_INT(tu_wait_child(&c, 5000), 0);
    return 0;
}
