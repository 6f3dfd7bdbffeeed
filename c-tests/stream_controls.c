/* Stream controls as Node has them, against Node's tls (stream_peer.js count: a server that
 * only reads and reports what it got): setKeepAlive and the keepAlive options (checked with
 * getsockopt on the connection's own descriptor: the values libuv sets, SO_KEEPALIVE,
 * TCP_KEEPIDLE in whole seconds, TCP_KEEPINTVL 1, TCP_KEEPCNT 10), localAddress/localPort
 * (Node sees our port; the same 4-tuple twice is Node's EADDRNOTAVAIL words; a local
 * address of the other family is "bind EINVAL"), family, bufferSize and destroySoon. */
#include "client_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static int port; /* Node's */

/* The descriptor of our TCP connection whose local port is `local` (and peer port `peer`). */
static int fd_of(int local, int peer) {
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in a, b;
        socklen_t la = sizeof a, lb = sizeof b;
        if (getsockname(fd, (struct sockaddr *)&a, &la) != 0 || a.sin_family != AF_INET) continue;
        if (getpeername(fd, (struct sockaddr *)&b, &lb) != 0) continue;
        if (ntohs(a.sin_port) == local && ntohs(b.sin_port) == peer) return fd;
    }
    return -1;
}

static int opt(int fd, int level, int name) {
    int v = -1;
    socklen_t l = sizeof v;
    CHECK(getsockopt(fd, level, name, &v, &l) == 0);
    return v;
}

static int local_port(ntls_socket *s) {
    int p = 0;
    CHECK_INT(ntls_socket_local_address(s, NULL, 0, &p, NULL), 0);
    return p;
}

static void keep_alive_opts(ntls_options *o) {
    ntls_options_set_bool(o, NTLS_OPT_KEEP_ALIVE, 1);
    ntls_options_set_int(o, NTLS_OPT_KEEP_ALIVE_INITIAL_DELAY, 7000);
}

static int bind_port;
static void bind_opts(ntls_options *o) {
    ntls_options_set_string(o, NTLS_OPT_LOCAL_ADDRESS, "127.0.0.1");
    ntls_options_set_int(o, NTLS_OPT_LOCAL_PORT, bind_port);
}
static void bind_v6_opts(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_LOCAL_ADDRESS, "::1"); }
static void family4_opts(ntls_options *o) {
    ntls_options_set_string(o, NTLS_OPT_HOST, "localhost");
    ntls_options_set_int(o, NTLS_OPT_FAMILY, 4);
}
static void literal_family6_opts(ntls_options *o) { ntls_options_set_int(o, NTLS_OPT_FAMILY, 6); }

/* Option values refused at once, with Node's words. */
static void refused(const char *what, int key, const char *text, long long num, const char *words) {
    ntls_options *o;
    ntls_options_new(&o);
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    if (text) ntls_options_set_string(o, key, text);
    else ntls_options_set_int(o, key, num);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    CHECK_INT(ntls_socket_connect(s, o), NTLS_EINVAL);
    printf("%s: %s\n", what, ntls_options_last_error(o));
    CHECK_STR(ntls_options_last_error(o), words);
    ntls_socket_unref(s);
    ntls_options_unref(o);
}

/* bufferSize and destroySoon: a 1 MiB write queued inside secureConnect, then destroySoon. */
static atomic_int ds_closed, ds_had_error, ds_ended, ds_write_status = 1;
static long long ds_buffer_in_cb, ds_buffer_before;
static uint8_t big[1 << 20];
static void ds_write_done(ntls_socket *s, int status, void *arg) {
    (void)s, (void)arg;
    atomic_store(&ds_write_status, status);
}
static void ds_secure(ntls_socket *s, void *d) {
    (void)d;
    ds_buffer_before = ntls_socket_buffer_size(s);
    ntls_socket_write(s, big, sizeof big, ds_write_done, NULL);
    ds_buffer_in_cb = ntls_socket_buffer_size(s); /* nothing flushed inside the callback */
    CHECK_INT(ntls_socket_destroy_soon(s), 0);
    CHECK_INT(ntls_socket_writable(s), 0);
    CHECK_INT(ntls_socket_readable(s), 1);
}
static void ds_end(ntls_socket *s, void *d) {
    (void)s, (void)d;
    atomic_store(&ds_ended, 1);
}
static void ds_close(ntls_socket *s, int had_error, void *d) {
    (void)s, (void)d;
    atomic_store(&ds_had_error, had_error);
    atomic_store(&ds_closed, 1);
}

int main(void) {
    tu_init(60);
    char script[512], line[512], v[64];
    snprintf(script, sizeof script, "%s/stream_peer.js", tu_peers_dir());
    char *argv[] = {"node", script, "count", (char *)NODETLS_CERTS, NULL};
    tu_child node;
    tu_spawn(&node, argv);
    CHECK(tu_read_line(&node, line, sizeof line, 20000));
    CHECK(tu_json(line, "port", v, sizeof v));
    port = atoi(v);

    /* keepAlive + keepAliveInitialDelay at connect, then setKeepAlive on the live socket. */
    tu_client cl;
    cl.send_on_secure = "x";
    cl.hold = 1;
    tu_client_connect(&cl, NULL, port, keep_alive_opts);
    WAIT_FOR(atomic_load(&cl.secure) == 1, 10000);
    int fd = fd_of(local_port(cl.s), port);
    CHECK(fd >= 0);
    CHECK_INT(opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    CHECK_INT(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 7);
    CHECK_INT(opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 1);
    CHECK_INT(opt(fd, IPPROTO_TCP, TCP_KEEPCNT), 10);
    CHECK_INT(ntls_socket_set_keep_alive(cl.s, 1, 5500), 0);
    WAIT_FOR(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE) == 5, 5000); /* whole seconds, as libuv */
    CHECK_INT(ntls_socket_set_keep_alive(cl.s, 1, 999), 0);   /* under a second: idle unchanged */
    CHECK_INT(ntls_socket_set_keep_alive(cl.s, 0, 0), 0);
    WAIT_FOR(opt(fd, SOL_SOCKET, SO_KEEPALIVE) == 0, 5000);
    CHECK_INT(opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 5);
    CHECK_INT(ntls_socket_set_keep_alive(NULL, 1, 0), NTLS_EINVAL);
    printf("setKeepAlive: SO_KEEPALIVE 1, TCP_KEEPIDLE 7 then 5, TCP_KEEPINTVL 1, TCP_KEEPCNT 10, then off\n");
    ntls_socket_end(cl.s);
    tu_client_wait_closed(&cl, 10000);
    CHECK_INT(ntls_socket_set_keep_alive(cl.s, 1, 0), NTLS_ECLOSED);
    tu_client_free(&cl);
    CHECK(tu_read_line(&node, line, sizeof line, 10000)); /* Node's report of that connection */

    /* A server's keepAlive option reaches every accepted connection. */
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_bool(so, NTLS_OPT_KEEP_ALIVE, 1);
    ntls_options_set_int(so, NTLS_OPT_KEEP_ALIVE_INITIAL_DELAY, 3000);
    tu_echo_server e;
    tu_echo_start(&e, NULL, so);
    cl.send_on_secure = "y";
    cl.hold = 1;
    tu_client_connect(&cl, NULL, e.port, NULL);
    WAIT_FOR(strcmp(cl.received, "y") == 0, 10000);
    int sfd = fd_of(e.port, local_port(cl.s));
    CHECK(sfd >= 0);
    CHECK_INT(opt(sfd, SOL_SOCKET, SO_KEEPALIVE), 1);
    CHECK_INT(opt(sfd, IPPROTO_TCP, TCP_KEEPIDLE), 3);
    CHECK_INT(opt(fd_of(local_port(cl.s), e.port), SOL_SOCKET, SO_KEEPALIVE), 0); /* not the client's */
    ntls_socket_end(cl.s);
    tu_client_wait_closed(&cl, 10000);
    tu_client_free(&cl);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    printf("server keepAlive: the accepted connection has SO_KEEPALIVE 1, TCP_KEEPIDLE 3\n");

    /* localAddress/localPort: Node sees the port we bound. */
    bind_port = tu_closed_port();
    cl.send_on_secure = "bound";
    cl.hold = 1;
    tu_client_connect(&cl, NULL, port, bind_opts);
    WAIT_FOR(atomic_load(&cl.secure) == 1, 10000);
    char host[64];
    int lp = 0, fam = 0;
    CHECK_INT(ntls_socket_local_address(cl.s, host, sizeof host, &lp, &fam), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(lp, bind_port);
    /* The same local end to the same peer again: Node's words. */
    tu_client again;
    again.send_on_secure = NULL;
    tu_client_connect(&again, NULL, port, bind_opts);
    tu_client_wait_closed(&again, 10000);
    CHECK_STR(again.error_code, "EADDRNOTAVAIL");
    tu_client_free(&again);
    ntls_socket_end(cl.s);
    tu_client_wait_closed(&cl, 10000);
    tu_client_free(&cl);
    CHECK(tu_read_line(&node, line, sizeof line, 10000));
    printf("node saw: %s\n", line);
    CHECK(tu_json(line, "remotePort", v, sizeof v));
    CHECK_INT(atoi(v), bind_port);
    /* A local address of the other family. */
    cl.send_on_secure = NULL;
    tu_client_connect(&cl, NULL, port, bind_v6_opts);
    tu_client_wait_closed(&cl, 10000);
    CHECK_STR(cl.error_code, "EINVAL");
    tu_client_free(&cl);
    /* family 4 resolves localhost to 127.0.0.1; an IP literal ignores family, as in Node. */
    cl.send_on_secure = "f";
    tu_client_connect(&cl, NULL, port, family4_opts);
    WAIT_FOR(atomic_load(&cl.secure) == 1 || atomic_load(&cl.closed) == 1, 10000);
    CHECK_INT(cl.secure, 1);
    CHECK_INT(ntls_socket_remote_address(cl.s, host, sizeof host, NULL, &fam), 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(fam, 4);
    ntls_socket_end(cl.s);
    tu_client_wait_closed(&cl, 10000);
    tu_client_free(&cl);
    CHECK(tu_read_line(&node, line, sizeof line, 10000));
    tu_client_connect(&cl, NULL, port, literal_family6_opts);
    WAIT_FOR(atomic_load(&cl.secure) == 1 || atomic_load(&cl.closed) == 1, 10000);
    CHECK_INT(cl.secure, 1);
    ntls_socket_end(cl.s);
    tu_client_wait_closed(&cl, 10000);
    tu_client_free(&cl);
    CHECK(tu_read_line(&node, line, sizeof line, 10000));
    refused("localAddress nope", NTLS_OPT_LOCAL_ADDRESS, "nope", 0, "Invalid IP address: nope");
    refused("family 5", NTLS_OPT_FAMILY, NULL, 5, "The property 'options.family' must be one of: 0, 4, 6. Received 5");
    refused("localPort 70000", NTLS_OPT_LOCAL_PORT, NULL, 70000, "localPort must be 0 to 65535, got 70000");

    /* bufferSize and destroySoon: Node gets the whole megabyte, then our end; no error. */
    ntls_options *o;
    ntls_options_new(&o);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    CHECK_INT(ntls_socket_buffer_size(s), 0);
    ntls_socket_on_secure_connect(s, ds_secure);
    ntls_socket_on_end(s, ds_end);
    ntls_socket_on_close(s, ds_close);
    ntls_socket_on_data(s, NULL);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&ds_closed) == 1, 10000);
    CHECK_INT(ds_buffer_before, 0);
    CHECK_INT(ds_buffer_in_cb, sizeof big);
    CHECK_INT(atomic_load(&ds_write_status), 0);
    CHECK_INT(atomic_load(&ds_had_error), 0);
    CHECK_INT(atomic_load(&ds_ended), 0); /* closed before the peer's end */
    CHECK_INT(ntls_socket_buffer_size(s), NTLS_ECLOSED);
    CHECK_INT(ntls_socket_destroy_soon(s), NTLS_ECLOSED);
    CHECK_INT(ntls_socket_buffer_size(NULL), NTLS_EINVAL);
    CHECK(tu_read_line(&node, line, sizeof line, 10000));
    printf("destroySoon after a 1 MiB write (bufferSize %lld in the callback): node saw %s\n", ds_buffer_in_cb, line);
    CHECK(tu_json(line, "received", v, sizeof v));
    CHECK_INT(atoll(v), sizeof big);
    CHECK(tu_json(line, "end", v, sizeof v));
    CHECK_STR(v, "true");
    ntls_socket_unref(s);
    ntls_options_unref(o);

    close(node.in_fd);
    CHECK_INT(tu_wait_child(&node, 10000), 0);
    return 0;
}
