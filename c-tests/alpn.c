/* ALPN as Node 20: the server picks the first of its own list that the client offers; no
 * list on either side means no protocol (NULL) and the handshake goes on; two lists with
 * no overlap end the handshake with no_application_protocol. Checked against Node too. */
#include "client_util.h"

#include <unistd.h>

static const char *client_alpn;
static void set_alpn(ntls_options *o) {
    if (client_alpn) ntls_options_set_string(o, NTLS_OPT_ALPN_PROTOCOLS, client_alpn);
}

static void agree(const char *server_alpn, const char *clients, const char *expected) {
    ntls_options *so = tu_server_options("server-ec");
    if (server_alpn) ntls_options_set_string(so, NTLS_OPT_ALPN_PROTOCOLS, server_alpn);
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    tu_client c;
    c.send_on_secure = "a";
    c.hold = 0;
    client_alpn = clients;
    tu_client_connect(&c, NULL, e.port, set_alpn);
    tu_client_wait_closed(&c, 5000);
    const char *got = ntls_socket_alpn_protocol(c.s);
    if (expected == NULL) {
        CHECK_INT(atomic_load(&c.had_error), 0);
        CHECK(got == NULL);
        CHECK_STR(e.last_alpn, "");
    } else if (strncmp(expected, "ERR_", 4) == 0) {
        CHECK_INT(atomic_load(&c.had_error), 1);
        CHECK_STR(c.error_code, "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
        WAIT_FOR(atomic_load(&e.client_errors) == 1, 5000);
        CHECK_STR(e.last_client_error, expected);
    } else {
        CHECK_INT(atomic_load(&c.had_error), 0);
        CHECK_STR(got, expected);
        CHECK_STR(e.last_alpn, expected);
    }
    printf("server %-14s client %-14s -> %s\n", server_alpn ? server_alpn : "-", clients ? clients : "-",
           expected ? expected : "(none)");
    tu_client_free(&c);
    tu_echo_stop(&e);
    ntls_options_unref(so);
}

int main(void) {
    tu_init(60);
    agree("h2,http/1.1", "http/1.1,h2", "h2");
    agree("http/1.1,h2", "h2,http/1.1", "http/1.1");
    agree(NULL, "h2", NULL);
    agree("h2", NULL, NULL);
    agree("h2", "http/1.1", "ERR_SSL_NO_APPLICATION_PROTOCOL");

    /* Node's client against our server, lists with no overlap. */
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_string(so, NTLS_OPT_ALPN_PROTOCOLS, "h2");
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    char port[16], script[512], line[1024], v[128];
    snprintf(port, sizeof port, "%d", e.port);
    snprintf(script, sizeof script, "%s/node_client.js", tu_peers_dir());
    char *argv[] = {"node", script, port, (char *)tu_cert("ca-cert.pem"), "http/1.1", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, sizeof line, 20000));
    printf("node client: %s\n", line);
    CHECK(tu_json(line, "error", v, sizeof v));
    CHECK_STR(v, "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
    tu_wait_child(&c, 5000);
    WAIT_FOR(atomic_load(&e.client_errors) == 1, 5000);
    CHECK_STR(e.last_client_error, "ERR_SSL_NO_APPLICATION_PROTOCOL");
    tu_echo_stop(&e);
    ntls_options_unref(so);

    /* Our client against Node's server (ALPN ['http/1.1']), offering only h2. */
    snprintf(script, sizeof script, "%s/node_server.js", tu_peers_dir());
    char *argv2[] = {"node", script, (char *)tu_cert(""), NULL};
    tu_child n;
    tu_spawn(&n, argv2);
    CHECK(tu_read_line(&n, line, sizeof line, 30000));
    CHECK(tu_json(line, "echo", v, sizeof v));
    tu_client cl;
    cl.send_on_secure = "a";
    cl.hold = 0;
    client_alpn = "h2";
    tu_client_connect(&cl, NULL, atoi(v), set_alpn);
    tu_client_wait_closed(&cl, 5000);
    printf("our client vs node server: %s\n", cl.error_code);
    CHECK_STR(cl.error_code, "ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL");
    tu_client_free(&cl);
    close(n.in_fd);
    n.in_fd = -1;
    tu_wait_child(&n, 5000);
    return 0;
}
