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
    /* The client's ClientHello list, as far as ours holds it: sized, then read. */
    const char *sigalgs[32];
    int n_sigalgs = ntls_socket_get_shared_sigalgs(s, NULL, 0);
    CHECK(n_sigalgs > 0 && n_sigalgs <= 32);
    CHECK_INT(ntls_socket_get_shared_sigalgs(s, sigalgs, 32), n_sigalgs);
    for (int k = 0; k < n_sigalgs; k++) CHECK(strchr(sigalgs[k], '+') != NULL);
    CHECK_INT(ntls_socket_get_shared_sigalgs(NULL, sigalgs, 32), NTLS_EINVAL);
    atomic_store(&srv_seen.secure, 1);
    ntls_socket_on_data(s, echo);
}

/* With `via_sni`, the certificate comes from an addContext context: the connection then
 * starts in the hello phase, whose accepted ClientHello already made keys. */
static ntls_server *facts_server(int *port, int via_sni) {
    ntls_options *o = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, o, &srv), 0);
    if (via_sni) {
        ntls_context *ctx;
        CHECK_INT(ntls_context_new(o, &ctx), 0);
        CHECK_INT(ntls_server_add_context(srv, "localhost", ctx), 0);
        ntls_context_unref(ctx);
    }
    ntls_options_unref(o);
    CHECK_INT(ntls_server_on_keylog(srv, srv_keylog), 0);
    CHECK_INT(ntls_server_on_secure_connection(srv, srv_secure), 0);
    *port = tu_listen(srv);
    return srv;
}

/* Node's client against our server: same keylog lines, same exported keys, our certificate. */
static void against_node_client(const char *max_version, int via_sni) {
    memset(&srv_seen, 0, sizeof srv_seen);
    int port;
    ntls_server *srv = facts_server(&port, via_sni);
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
    printf("%s%s: Node client and our server agree on %d keylog lines, exported keys and certificate\n",
           max_version, via_sni ? " (addContext)" : "", node_lines);
    tu_close_server(srv);
    ntls_server_unref(srv);
}

/* Our client against openssl s_server -keymatexport -keylogfile: the same material, and
 * the same key-log lines from our keylog event, from SSLKEYLOGFILE and from openssl. */
static char client_ekm[256];
static char client_keylog[8192];
static atomic_int client_lines;
static void client_keylog_cb(ntls_socket *s, const uint8_t *line, size_t len, void *d) {
    (void)s, (void)d;
    CHECK(len > 2 && line[len - 1] == '\n');
    CHECK(client_ekm[0] == 0); /* before secureConnect */
    strncat(client_keylog, (const char *)line, len);
    atomic_fetch_add(&client_lines, 1);
}

/* Every line of `sub` (newline-separated, '#' lines skipped) is a line of `all`. */
static int lines_within(const char *sub, const char *all) {
    int n = 0;
    char *copy = strdup(sub);
    for (char *l = strtok(copy, "\n"); l; l = strtok(NULL, "\n")) {
        if (l[0] == '#') continue;
        if (!strstr(all, l)) {
            fprintf(stderr, "line not found: %s\nin:\n%s\n", l, all);
            exit(1);
        }
        n++;
    }
    free(copy);
    return n;
}
static char client_cert_fp[128]; /* the client's certificate, or "" for none */
static void ekm_on_secure(ntls_socket *s, void *d) {
    (void)d;
    uint8_t out[20];
    CHECK_INT(ntls_socket_export_keying_material(s, out, 20, LABEL, NULL, 0), 0);
    ntls_cert *own = NULL;
    if (client_cert_fp[0]) {
        /* Ours, whether the server asked for it or not (OpenSSL's current certificate). */
        CHECK_INT(ntls_socket_get_certificate(s, &own), 0);
        CHECK_STR(ntls_cert_fingerprint256(own), client_cert_fp);
        ntls_cert_unref(own);
    } else {
        CHECK_INT(ntls_socket_get_certificate(s, &own), NTLS_ENOENT); /* no certificate of ours */
    }
    hex(out, 20, client_ekm);
    ntls_socket_end(s);
}

/* The SHA-256 fingerprint of a test certificate, as openssl prints it. */
static void fingerprint_of(const char *name, char *out, size_t len) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "openssl x509 -in '%s' -noout -fingerprint -sha256", tu_cert(name));
    FILE *p = popen(cmd, "r");
    CHECK(p != NULL);
    char line[256] = "";
    CHECK(fgets(line, sizeof line, p) != NULL);
    pclose(p);
    char *eq = strchr(line, '=');
    CHECK(eq != NULL);
    eq[strcspn(eq, "\n")] = 0;
    snprintf(out, len, "%s", eq + 1);
}

static void against_openssl_server(const char *version_flag, const char *version, const char *client_cert, int ask) {
    int port = tu_closed_port();
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    char openssl_log[] = "/tmp/nodetls-facts-ossl-XXXXXX", our_log[] = "/tmp/nodetls-facts-ours-XXXXXX";
    close(mkstemp(openssl_log));
    close(mkstemp(our_log));
    char *argv[] = {"openssl", "s_server", "-accept", ps, "-naccept", "1", "-cert",
                    (char *)tu_cert("server-ec-cert.pem"), "-key", (char *)tu_cert("server-ec-key.pem"),
                    (char *)version_flag, "-keymatexport", LABEL, "-keymatexportlen", "20",
                    /* without `ask`, the NULL ends argv here: openssl asks for no certificate */
                    "-keylogfile", openssl_log, ask ? "-verify" : NULL, "1", "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    NULL};
    tu_child c;
    CHECK(tu_spawn_ready(&c, argv, "ACCEPT", 10000));
    char line[512];
    memset(client_ekm, 0, sizeof client_ekm);
    memset(client_keylog, 0, sizeof client_keylog);
    atomic_store(&client_lines, 0);
    ntls_socket *s;
    CHECK_INT(ntls_socket_new(NULL, &s), 0);
    CHECK_INT(ntls_socket_on_keylog(s, client_keylog_cb), 0);
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
    client_cert_fp[0] = 0;
    if (client_cert) {
        char cert[64];
        snprintf(cert, sizeof cert, "%s-cert.pem", client_cert);
        tu_add_key_cert(o, client_cert);
        fingerprint_of(cert, client_cert_fp, sizeof client_cert_fp);
    }
    CHECK_INT(setenv("SSLKEYLOGFILE", our_log, 1), 0);
    CHECK_INT(ntls_socket_connect(s, o), 0); /* reads SSLKEYLOGFILE */
    unsetenv("SSLKEYLOGFILE");
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
    tu_wait_child(&c, 5000);
    char *theirs = tu_read_file(openssl_log, NULL), *ours = tu_read_file(our_log, NULL);
    int n = lines_within(theirs, client_keylog);
    CHECK_INT(n, atomic_load(&client_lines));
    CHECK_INT(lines_within(ours, client_keylog), n);
    CHECK_INT(n, strcmp(version, "TLSv1.3") == 0 ? 5 : 1);
    free(theirs);
    free(ours);
    unlink(openssl_log);
    unlink(our_log);
    printf("%s: our client and openssl s_server export the same keying material and log the same %d lines"
           " (keylog event and SSLKEYLOGFILE)\n", version, n);
    ntls_socket_unref(s);
}


/* Many handshakes at once on one server: each connection's key-log lines all carry one
 * client random, and no line reaches another connection's socket (the note pad is taken
 * by the connection rustls was serving). */
#define CONCURRENT_CLIENTS 4
#define PER_CLIENT 10
static struct {
    char random[CONCURRENT_CLIENTS * PER_CLIENT * 2][65];
    const void *socket[CONCURRENT_CLIENTS * PER_CLIENT * 2];
    int lines[CONCURRENT_CLIENTS * PER_CLIENT * 2];
    int n;
    atomic_int bad;
} per_conn;

static void busy_keylog(ntls_server *srv, ntls_socket *s, const uint8_t *line, size_t len, void *d) {
    (void)srv, (void)d;
    const char *sp = memchr(line, ' ', len);
    CHECK(sp && (size_t)(sp - (const char *)line) + 65 < len);
    char random[65];
    memcpy(random, sp + 1, 64);
    random[64] = 0;
    int i = 0;
    while (i < per_conn.n && strcmp(per_conn.random[i], random) != 0) i++;
    if (i == per_conn.n) {
        CHECK(per_conn.n < CONCURRENT_CLIENTS * PER_CLIENT * 2);
        snprintf(per_conn.random[i], 65, "%s", random);
        per_conn.socket[i] = s;
        per_conn.n++;
    }
    if (per_conn.socket[i] != s) atomic_fetch_add(&per_conn.bad, 1);
    per_conn.lines[i]++;
}

static void many_at_once(void) {
    memset(&per_conn, 0, sizeof per_conn);
    ntls_options *o = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, o, &srv), 0);
    ntls_options_unref(o);
    CHECK_INT(ntls_server_on_keylog(srv, busy_keylog), 0);
    int port = tu_listen(srv);
    char ps[16], count[16], script[512];
    snprintf(ps, sizeof ps, "%d", port);
    snprintf(count, sizeof count, "%d", PER_CLIENT);
    snprintf(script, sizeof script, "%s/quick_client.js", tu_peers_dir());
    tu_child c[CONCURRENT_CLIENTS];
    for (int i = 0; i < CONCURRENT_CLIENTS; i++) {
        char *argv[] = {"node", script, ps, count, NULL};
        tu_spawn(&c[i], argv);
    }
    for (int i = 0; i < CONCURRENT_CLIENTS; i++) {
        char line[512], v[16];
        CHECK(tu_read_line(&c[i], line, sizeof line, 20000));
        CHECK(tu_json(line, "secure", v, sizeof v));
        CHECK_INT(atoi(v), PER_CLIENT);
        tu_wait_child(&c[i], 5000);
    }
    tu_close_server(srv);
    ntls_server_unref(srv);
    CHECK_INT(per_conn.n, CONCURRENT_CLIENTS * PER_CLIENT);
    for (int i = 0; i < per_conn.n; i++) CHECK_INT(per_conn.lines[i], 5);
    CHECK_INT(atomic_load(&per_conn.bad), 0);
    printf("%d concurrent handshakes: 5 lines each, every line on its own connection's socket\n", per_conn.n);
}

int main(void) {
    tu_init(60);
    against_node_client("TLSv1.3", 0);
    against_node_client("TLSv1.2", 0);
    against_node_client("TLSv1.3", 1);
    against_node_client("TLSv1.2", 1);
    many_at_once();
    against_openssl_server("-tls1_3", "TLSv1.3", NULL, 0);
    against_openssl_server("-tls1_2", "TLSv1.2", NULL, 0);
    against_openssl_server("-tls1_3", "TLSv1.3", "client", 1);
    against_openssl_server("-tls1_2", "TLSv1.2", "client", 0);
    printf("getCertificate on our client: the certificate sent (asked), the configured one (not asked)\n");
    printf("handshake facts ok\n");
    return 0;
}
