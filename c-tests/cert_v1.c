/* X.509 v1 certificates, which OpenSSL accepts (and webpki alone refuses), with real peers:
 * - our server serves a v1 leaf and Node's client verifies it (authorized true);
 * - our client verifies a v1 leaf served by `openssl s_server`, and still checks its name
 *   (the CN, since a v1 certificate has no alt names);
 * - our server with requestCert and rejectUnauthorized accepts a v1 client certificate. */
#include "client_util.h"

static void other_name(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "other.example"); }
static void v1_client_cert(ntls_options *o) {
    tu_add_pem(o, NTLS_OPT_KEY, "v1-key.pem");
    tu_add_pem(o, NTLS_OPT_CERT, "v1-cert.pem");
}

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *o = tu_server_options("v1");
    tu_echo_start(&e, NULL, o);
    ntls_options_unref(o);
    char port[16], script[1024];
    snprintf(port, sizeof port, "%d", e.port);
    snprintf(script, sizeof script,
             "const tls = require('tls'), fs = require('fs');"
             "const s = tls.connect({port: %d, host: '127.0.0.1', servername: 'localhost',"
             " ca: fs.readFileSync('%s')}, () => { console.log('authorized', s.authorized,"
             " s.authorizationError); s.end(); });"
             "s.on('error', (err) => console.log('error', err.code)); s.resume();",
             e.port, tu_cert("ca-cert.pem"));
    char *node[] = {"node", "-e", script, NULL};
    CHECK_INT(tu_run_count(node, 0, "authorized true null", NULL), 1);
    printf("Node's client verifies our server's v1 leaf: authorized\n");
    tu_echo_stop(&e);

    int p = tu_closed_port();
    snprintf(port, sizeof port, "%d", p);
    char *argv[] = {"openssl", "s_server", "-accept", port, "-key", (char *)tu_cert("v1-key.pem"), "-cert",
                    (char *)tu_cert("v1-cert.pem"), "-rev", "-naccept", "2", NULL};
    tu_child srv;
    CHECK(tu_spawn_ready(&srv, argv, "ACCEPT", 10000));
    tu_client c;
    c.send_on_secure = "v1\n";
    c.hold = 1;
    tu_client_connect(&c, NULL, p, NULL);
    WAIT_FOR(strstr(c.received, "1v") != NULL, 10000);
    CHECK_INT(ntls_socket_authorized(c.s), 1);
    ntls_socket_end(c.s);
    tu_client_wait_closed(&c, 10000);
    tu_client_free(&c);
    printf("our client verifies openssl s_server's v1 leaf: authorized\n");
    memset(&c, 0, sizeof c);
    tu_client_connect(&c, NULL, p, other_name);
    tu_client_wait_closed(&c, 10000);
    printf("the same leaf for another name: %s\n", c.error_code);
    CHECK_STR(c.error_code, "ERR_TLS_CERT_ALTNAME_INVALID");
    tu_client_free(&c);
    tu_wait_child(&srv, 5000);

    o = tu_server_options("server-ec");
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_bool(o, NTLS_OPT_REQUEST_CERT, 1);
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 1);
    tu_echo_start(&e, NULL, o);
    ntls_options_unref(o);
    memset(&c, 0, sizeof c);
    c.send_on_secure = "client v1";
    tu_client_connect(&c, NULL, e.port, v1_client_cert);
    tu_client_wait_closed(&c, 10000);
    CHECK_INT(atomic_load(&c.errors), 0);
    CHECK(strstr(c.received, "client v1") != NULL);
    CHECK_INT(atomic_load(&e.secure), 1);
    CHECK_INT(atomic_load(&e.client_errors), 0);
    printf("our server accepts a v1 client certificate under rejectUnauthorized\n");
    tu_client_free(&c);
    tu_echo_stop(&e);
    return 0;
}
