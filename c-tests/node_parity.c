/* Small answers where Node is the judge, each checked against what Node 20 does:
 * - getEphemeralKeyInfo() is null on a server socket, an object on the client;
 * - a TLS 1.3 server sends two session tickets after a full handshake (OpenSSL's count);
 * - addContext's `*` matches any run within one label (`a*.example.org`);
 * - a TLS 1.1 client is ERR_SSL_UNSUPPORTED_PROTOCOL on the server (OpenSSL's words);
 * - the socket given to tlsClientError carries the servername the client asked for;
 * - events in Node's order: the server's `connection` (with the peer's address) before
 *   `secureConnection`, the client's `connect` before `secureConnect`. */
#include "client_util.h"

#include <unistd.h>

static char trace[256];
static void note(const char *what) {
    size_t n = strlen(trace);
    snprintf(trace + n, sizeof trace - n, "%s%s", n ? " " : "", what);
}
static void on_connection(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    int port = 0;
    CHECK_INT(ntls_socket_remote_address(s, NULL, 0, &port, NULL), 0);
    CHECK(port > 0);
    note("server:connection");
}
static void on_client_connect(ntls_socket *s, void *d) {
    (void)s, (void)d;
    note("client:connect");
}

static char server_group[32] = "unset";
static atomic_int server_status = 1;
static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    const char *name = (const char *)"sentinel";
    int bits = -1;
    atomic_store(&server_status, ntls_socket_get_ephemeral_key_info(s, &name, &bits));
    snprintf(server_group, sizeof server_group, "%s/%d", name ? name : "(null)", bits);
    note("server:secureConnection");
    ntls_socket_resume(s);
}

static char client_error[96], client_error_name[96];
static void on_client_error(ntls_server *srv, const ntls_error *err, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    const char *name = ntls_socket_servername(s);
    snprintf(client_error_name, sizeof client_error_name, "%s", name ? name : "(null)");
    snprintf(client_error, sizeof client_error, "%s", ntls_error_code(err));
}

static char client_group[32];
static void on_client_secure(ntls_socket *s, void *d) {
    (void)d;
    const char *name = NULL;
    int bits = 0;
    CHECK_INT(ntls_socket_get_ephemeral_key_info(s, &name, &bits), 0);
    snprintf(client_group, sizeof client_group, "%s/%d", name, bits);
    note("client:secureConnect");
    ntls_socket_end(s);
}

static atomic_int closed;
static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he, (void)d;
    atomic_fetch_add(&closed, 1);
}

typedef struct {
    char *cn;
    size_t len;
} cn_out;
static void take_cn(const char *line, void *arg) {
    cn_out *o = arg;
    const char *at = strstr(line, "Peer certificate: ");
    if (at && strstr(at, "CN = ")) snprintf(o->cn, o->len, "%s", strstr(at, "CN = ") + 5);
}

/* The CN of the certificate served for `name`. */
static void served_for(int port, const char *name, char *cn, size_t len) {
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-servername", (char *)name, "-brief", NULL};
    snprintf(cn, len, "(none)");
    cn_out out = {cn, len};
    tu_run_lines(argv, 0, take_cn, &out);
}

int main(void) {
    tu_init(60);
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, on_secure);
    ntls_server_on_tls_client_error(srv, on_client_error);
    ntls_server_on_connection(srv, on_connection);
    int port = tu_listen(srv);

    ntls_options *o;
    ntls_options_new(&o);
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_bool(o, NTLS_OPT_REJECT_UNAUTHORIZED, 0);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_on_connect(s, on_client_connect);
    ntls_socket_on_secure_connect(s, on_client_secure);
    ntls_socket_on_close(s, on_close);
    ntls_socket_resume(s);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&closed) == 1, 10000);
    printf("getEphemeralKeyInfo: client %s, server %s (status %d)\n", client_group, server_group,
           atomic_load(&server_status));
    CHECK(strncmp(client_group, "X25519", 6) == 0 || strncmp(client_group, "prime256v1", 10) == 0);
    CHECK_INT(atomic_load(&server_status), NTLS_ENOENT);
    CHECK_STR(server_group, "(null)/0");
    printf("events: %s\n", trace);
    /* Each side's order is fixed; how the two sides interleave is not (two threads' view). */
    CHECK(strstr(trace, "server:connection") && strstr(trace, "client:connect"));
    CHECK(strstr(trace, "server:connection") < strstr(trace, "server:secureConnection"));
    CHECK(strstr(trace, "client:connect") < strstr(trace, "client:secureConnect"));
    ntls_socket_unref(s);
    ntls_options_unref(o);

    /* Tickets: openssl -msg shows each NewSessionTicket handshake message it receives. */
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-tls1_3", "-msg", NULL};
    int tickets = tu_run_count(argv, 300, "<<<", "NewSessionTicket"); /* they follow the handshake */
    printf("TLS 1.3 tickets after a full handshake: %d\n", tickets);
    CHECK_INT(tickets, 2);

    /* addContext patterns, as Node's regular expression reads them. */
    ntls_options *wo = tu_server_options("wronghost");
    ntls_context *ctx;
    CHECK_INT(ntls_context_new(wo, &ctx), 0);
    CHECK_INT(ntls_server_add_context(srv, "a*.example.org", ctx), 0);
    char cn[128];
    served_for(port, "abc.example.org", cn, sizeof cn);
    CHECK_STR(cn, "wrong.example.com");
    served_for(port, "a.example.org", cn, sizeof cn);
    CHECK_STR(cn, "wrong.example.com");
    served_for(port, "ba.example.org", cn, sizeof cn);
    CHECK_STR(cn, "localhost");
    served_for(port, "ab.c.example.org", cn, sizeof cn);
    CHECK_STR(cn, "localhost");
    ntls_context_unref(ctx);
    ntls_options_unref(wo);

    /* TLS 1.1 (OpenSSL's security level 0 lets it offer that): Node's server says
     * ERR_SSL_UNSUPPORTED_PROTOCOL. */
    char *old[] = {"openssl", "s_client", "-connect", connect, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", NULL};
    tu_run_lines(old, 0, NULL, NULL);
    WAIT_FOR(client_error[0] != 0, 5000);
    printf("TLS 1.1 client: tlsClientError %s\n", client_error);
    CHECK_STR(client_error, "ERR_SSL_UNSUPPORTED_PROTOCOL");

    /* A handshake that fails after the ClientHello (no shared cipher, through addContext's
     * ClientHello phase): the socket handed to tlsClientError names what was asked for. */
    client_error[0] = 0;
    char *nocipher[] = {"openssl", "s_client", "-connect", connect, "-servername", "abc.example.org", "-tls1_2",
                        "-cipher", "AES128-SHA", NULL};
    tu_run_lines(nocipher, 0, NULL, NULL);
    WAIT_FOR(client_error[0] != 0, 5000);
    printf("no shared cipher: tlsClientError %s, servername %s\n", client_error, client_error_name);
    CHECK_STR(client_error, "ERR_SSL_NO_SHARED_CIPHER");
    CHECK_STR(client_error_name, "abc.example.org");

    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    printf("node parity answers hold\n");
    return 0;
}
