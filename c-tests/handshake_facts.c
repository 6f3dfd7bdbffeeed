/* What a finished handshake tells, checked against the other end: the keylog event
 * (every line Node's client logs for the same connection, and SSLKEYLOGFILE lines that
 * let tshark decrypt a captured session), exportKeyingMaterial (equal to Node's and to
 * openssl s_server's, TLS 1.2 and 1.3, with and without context), getCertificate (the
 * certificate the peer saw), and the getters rustls cannot answer (NTLS_ENOTSUP). */
#include "client_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define LABEL "EXPERIMENTAL-nodetls"

static struct {
    char keylog[8192];
    atomic_int lines;
    char ekm[256], ekm_nocontext[256], fingerprint[128];
    atomic_int secure;
} srv_seen;

static void hex(const uint8_t *b, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
    out[2 * n] = 0;
}

static void srv_keylog(ntls_server *srv, ntls_socket *s, const uint8_t *line, size_t len, void *d) {
    (void)srv, (void)d;
    CHECK(s != NULL);
    CHECK(len > 2 && line[len - 1] == '\n'); /* Node's lines end in a newline too */
    CHECK(!atomic_load(&srv_seen.secure));  /* all before secureConnection */
    strncat(srv_seen.keylog, (const char *)line, len - 1);
    strcat(srv_seen.keylog, ";");
    atomic_fetch_add(&srv_seen.lines, 1);
}

static void echo(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)d;
    ntls_socket_write(s, buf, len, NULL, NULL);
}

static void srv_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    uint8_t out[48];
    CHECK_INT(ntls_socket_export_keying_material(s, out, 32, LABEL, (const uint8_t *)"ctx", 3), 0);
    hex(out, 32, srv_seen.ekm);
    CHECK_INT(ntls_socket_export_keying_material(s, out, 48, LABEL, NULL, 0), 0);
    hex(out, 48, srv_seen.ekm_nocontext);
    CHECK_INT(ntls_socket_export_keying_material(s, out, 0, LABEL, NULL, 0), NTLS_EINVAL);
    CHECK_INT(ntls_socket_export_keying_material(s, out, 8, NULL, NULL, 0), NTLS_EINVAL);
    ntls_cert *own = NULL;
    CHECK_INT(ntls_socket_get_certificate(s, &own), 0);
    snprintf(srv_seen.fingerprint, sizeof srv_seen.fingerprint, "%s", ntls_cert_fingerprint256(own));
    ntls_cert_unref(own);
    const uint8_t *fin;
    size_t fin_len;
    CHECK_INT(ntls_socket_get_finished(s, 0, &fin, &fin_len), NTLS_ENOTSUP);
    CHECK_INT(ntls_socket_get_finished(s, 1, &fin, &fin_len), NTLS_ENOTSUP);
    CHECK(strstr(ntls_socket_last_error(s), "rustls") != NULL);
    CHECK_INT(ntls_socket_get_shared_sigalgs(s), NTLS_ENOTSUP);
    atomic_store(&srv_seen.secure, 1);
    ntls_socket_on_data(s, echo);
}

static ntls_server *facts_server(int *port) {
    ntls_options *o = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, o, &srv), 0);
    ntls_options_unref(o);
    CHECK_INT(ntls_server_on_keylog(srv, srv_keylog), 0);
    CHECK_INT(ntls_server_on_secure_connection(srv, srv_secure), 0);
    *port = tu_listen(srv);
    return srv;
}

/* Node's client against our server: same keylog lines, same exported keys, our certificate. */
static void against_node_client(const char *max_version) {
    memset(&srv_seen, 0, sizeof srv_seen);
    int port;
    ntls_server *srv = facts_server(&port);
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    char script[512];
    snprintf(script, sizeof script, "%s/facts_client.js", tu_peers_dir());
    char *argv[] = {"node", script, ps, (char *)tu_cert("ca-cert.pem"), (char *)max_version, "hello keylog", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    static char line[16384];
    CHECK(tu_read_line(&c, line, sizeof line, 15000));
    tu_wait_child(&c, 5000);
    char v[8192];
    CHECK(tu_json(line, "protocol", v, sizeof v));
    CHECK_STR(v, max_version);
    CHECK(tu_json(line, "echo_ok", v, sizeof v));
    CHECK_STR(v, "true");
    CHECK(tu_json(line, "ekm", v, sizeof v));
    CHECK_STR(srv_seen.ekm, v);
    CHECK(tu_json(line, "ekm_nocontext", v, sizeof v));
    CHECK_STR(srv_seen.ekm_nocontext, v);
    CHECK(tu_json(line, "fingerprint", v, sizeof v));
    CHECK_STR(srv_seen.fingerprint, v);
    CHECK(tu_json(line, "keylog", v, sizeof v));
    /* Every line Node's client logged, our server logged too (same labels, random, secret). */
    int node_lines = 0;
    for (char *l = strtok(v, ";"); l; l = strtok(NULL, ";")) {
        if (!strstr(srv_seen.keylog, l)) {
            fprintf(stderr, "node's line not ours: %s\nours: %s\n", l, srv_seen.keylog);
            exit(1);
        }
        node_lines++;
    }
    CHECK_INT(node_lines, strcmp(max_version, "TLSv1.3") == 0 ? 5 : 1);
    CHECK_INT(atomic_load(&srv_seen.lines), node_lines);
    printf("%s: Node client and our server agree on %d keylog lines, exported keys and certificate\n",
           max_version, node_lines);
    tu_close_server(srv);
    ntls_server_unref(srv);
}

/* Our client against openssl s_server -keymatexport: the same material, both versions. */
static char client_ekm[256];
static void ekm_on_secure(ntls_socket *s, void *d) {
    (void)d;
    uint8_t out[20];
    CHECK_INT(ntls_socket_export_keying_material(s, out, 20, LABEL, NULL, 0), 0);
    hex(out, 20, client_ekm);
    ntls_cert *own = NULL;
    CHECK_INT(ntls_socket_get_certificate(s, &own), NTLS_ENOENT); /* no certificate of ours */
    ntls_socket_end(s);
}

static void against_openssl_server(const char *version_flag, const char *version) {
    int port = tu_closed_port();
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    char *argv[] = {"openssl", "s_server", "-accept", ps, "-naccept", "1", "-cert",
                    (char *)tu_cert("server-ec-cert.pem"), "-key", (char *)tu_cert("server-ec-key.pem"),
                    (char *)version_flag, "-keymatexport", LABEL, "-keymatexportlen", "20", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    char line[512];
    CHECK(tu_read_line(&c, line, sizeof line, 10000)); /* "Using default temp DH parameters" / ACCEPT */
    while (!strstr(line, "ACCEPT")) CHECK(tu_read_line(&c, line, sizeof line, 10000));
    memset(client_ekm, 0, sizeof client_ekm);
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    uint8_t tmp[4];
    CHECK_INT(ntls_socket_export_keying_material(s, tmp, 4, LABEL, NULL, 0), NTLS_ENOTCONN);
    ntls_socket_on_secure_connect(s, ekm_on_secure);
    ntls_socket_resume(s);
    ntls_options *o;
    ntls_options_new(&o);
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    CHECK_INT(ntls_socket_connect(s, o), 0);
    ntls_options_unref(o);
    char want[256] = "";
    for (int i = 0; i < 60 && !want[0]; i++) {
        if (!tu_read_line(&c, line, sizeof line, 5000)) break;
        char *at = strstr(line, "Keying material: ");
        if (at) snprintf(want, sizeof want, "%s", at + strlen("Keying material: "));
    }
    WAIT_FOR(client_ekm[0] != 0, 5000);
    for (char *p = want; *p; p++) *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    CHECK_STR(client_ekm, want);
    printf("%s: our client and openssl s_server export the same keying material\n", version);
    tu_wait_child(&c, 5000);
    ntls_socket_unref(s);
}

int main(void) {
    tu_init(60);
    against_node_client("TLSv1.3");
    against_node_client("TLSv1.2");
    against_openssl_server("-tls1_3", "TLSv1.3");
    against_openssl_server("-tls1_2", "TLSv1.2");
    printf("handshake facts ok\n");
    return 0;
}
