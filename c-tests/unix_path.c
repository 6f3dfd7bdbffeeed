/* TLS over Unix-domain sockets: `ntls_server_listen_path` served to Node's tls (`path`),
 * `openssl s_client -unix` and `curl --unix-socket`; our `path` client against Node's tls
 * server on a path and `openssl s_server -unix`. The socket file: an existing one (stale
 * socket or plain file) is EADDRINUSE, as with Node, and ours is removed at close. */
#include "client_util.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static char dir[32], path[64], client_path[80];
static atomic_int served, listen_status = 1, server_errors;
static char server_error[160];

/* Echoes, except that an HTTP request (curl's) gets a small response and the end. */
static void srv_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)d;
    if (len >= 4 && memcmp(buf, "GET ", 4) == 0) {
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\nover a path\n";
        ntls_socket_write(s, r, strlen(r), NULL, NULL);
        ntls_socket_end(s);
        return;
    }
    ntls_socket_write(s, buf, len, NULL, NULL);
}

static void srv_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    char host[64];
    /* Node's remoteAddress is undefined on a Unix socket. */
    CHECK_INT(ntls_socket_remote_address(s, host, sizeof host, NULL, NULL), NTLS_ENOTCONN);
    atomic_fetch_add(&served, 1);
    ntls_socket_on_data(s, srv_data);
}

static void on_listen(ntls_server *srv, int status, void *d) {
    (void)srv, (void)d;
    atomic_store(&listen_status, status);
}

static void on_server_error(ntls_server *srv, const ntls_error *err, void *d) {
    (void)srv, (void)d;
    snprintf(server_error, sizeof server_error, "%s|%s", ntls_error_code(err), ntls_error_message(err));
    atomic_fetch_add(&server_errors, 1);
}

/* A second server on a path that is taken: EADDRINUSE through error and the callback. */
static void expect_in_use(ntls_options *so, const char *where) {
    ntls_server *other;
    CHECK_INT(ntls_server_new(NULL, so, &other), 0);
    ntls_server_on_error(other, on_server_error);
    atomic_store(&listen_status, 1);
    atomic_store(&server_errors, 0);
    CHECK_INT(ntls_server_listen_path(other, where, on_listen), 0);
    WAIT_FOR(atomic_load(&listen_status) != 1, 5000);
    CHECK_INT(atomic_load(&listen_status), NTLS_EADDRINUSE);
    CHECK_INT(atomic_load(&server_errors), 1);
    char want[200];
    snprintf(want, sizeof want, "EADDRINUSE|listen EADDRINUSE: address already in use %s", where);
    CHECK_STR(server_error, want);
    tu_close_server(other);
    ntls_server_unref(other);
}

static void use_client_path(ntls_options *o) { ntls_options_set_string(o, NTLS_OPT_PATH, client_path); }

int main(void) {
    tu_init(60);
    /* Short: OpenSSL 3.0's s_server gives up on a path longer than 31 bytes (getnameinfo). */
    snprintf(dir, sizeof dir, "/tmp/nu-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/tls.sock", dir);

    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, srv_secure);
    CHECK_INT(ntls_server_listen_path(srv, path, on_listen), 0);
    WAIT_FOR(atomic_load(&listen_status) == 0, 5000);
    struct stat st;
    CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
    char host[128];
    int port = -1, family = -1;
    CHECK_INT(ntls_server_address(srv, host, sizeof host, &port, &family), 0);
    CHECK_STR(host, path);
    CHECK_INT(port, 0);
    CHECK_INT(family, 0);
    CHECK_INT(ntls_server_address(srv, host, 4, NULL, NULL), NTLS_EINVAL); /* too small */
    CHECK_INT(ntls_server_listen_path(srv, path, NULL), NTLS_EALREADY);
    CHECK_INT(ntls_server_listen_path(NULL, path, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_server_listen_path(srv, NULL, NULL), NTLS_EINVAL);

    /* The path is taken by our live socket, by a stale socket file, by a plain file. */
    expect_in_use(so, path);
    char stale[64], plain[64];
    snprintf(stale, sizeof stale, "%s/stale.sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    memcpy(un.sun_path, stale, strlen(stale) + 1);
    CHECK(bind(fd, (struct sockaddr *)&un, sizeof un) == 0);
    close(fd); /* bound, never listening, closed: a stale socket file */
    expect_in_use(so, stale);
    CHECK(stat(stale, &st) == 0); /* left alone, as Node leaves it */
    snprintf(plain, sizeof plain, "%s/plain", dir);
    FILE *f = fopen(plain, "w");
    fputs("x", f);
    fclose(f);
    expect_in_use(so, plain);
    CHECK(stat(plain, &st) == 0 && S_ISREG(st.st_mode));

    /* Node's tls.connect({path}). */
    char script[512], line[1024], v[64];
    snprintf(script, sizeof script, "%s/node_path.js", tu_peers_dir());
    {
        char *argv[] = {"node", script, "client", (char *)tu_cert("ca-cert.pem"), path, NULL};
        tu_child c;
        tu_spawn(&c, argv);
        CHECK(tu_read_line(&c, line, sizeof line, 30000));
        printf("node client over %s: %s\n", path, line);
        tu_json(line, "echo_ok", v, sizeof v);
        CHECK_STR(v, "true");
        tu_json(line, "authorized", v, sizeof v);
        CHECK_STR(v, "true");
        CHECK_INT(tu_wait_child(&c, 10000), 0);
    }
    /* openssl s_client -unix. */
    {
        char *argv[] = {"openssl", "s_client", "-unix", path, "-servername", "localhost", "-CAfile",
                        (char *)tu_cert("ca-cert.pem"), "-verify_return_error", "-quiet", "-no_ign_eof", NULL};
        tu_child c;
        tu_spawn(&c, argv);
        tu_write_child(&c, "line through s_client -unix\n");
        int echoed = 0;
        while (!echoed && tu_read_line(&c, line, sizeof line, 10000)) echoed = strstr(line, "line through s_client -unix") != NULL;
        CHECK(echoed);
        printf("openssl s_client -unix: echoed\n");
        close(c.in_fd);
        tu_wait_child(&c, 10000);
    }
    /* curl --unix-socket. */
    {
        char *argv[] = {"curl", "-sS", "--max-time", "10", "--unix-socket", path, "--cacert",
                        (char *)tu_cert("ca-cert.pem"), "https://localhost/", NULL};
        CHECK_INT(tu_run_count(argv, 0, "over a path", NULL), 1);
        printf("curl --unix-socket: 200\n");
    }
    WAIT_FOR(atomic_load(&served) == 3, 5000);

    /* Our client with `path`: first to our own server, then to Node's and to openssl's. */
    snprintf(client_path, sizeof client_path, "%s", path);
    tu_client cl;
    cl.send_on_secure = "to ourselves over a path";
    cl.hold = 0;
    tu_client_connect(&cl, NULL, 0, use_client_path);
    tu_client_wait_closed(&cl, 10000);
    CHECK_STR(cl.received, "to ourselves over a path");
    CHECK_INT(cl.had_error, 0);
    tu_client_free(&cl);

    snprintf(client_path, sizeof client_path, "%s/node.sock", dir);
    {
        char *argv[] = {"node", script, "server", (char *)NODETLS_CERTS, client_path, NULL};
        tu_child c;
        tu_spawn(&c, argv);
        CHECK(tu_read_line(&c, line, sizeof line, 30000));
        CHECK(strstr(line, client_path) != NULL);
        cl.send_on_secure = "to node over a path";
        tu_client_connect(&cl, NULL, 0, use_client_path);
        tu_client_wait_closed(&cl, 10000);
        CHECK_STR(cl.received, "to node over a path");
        CHECK_INT(cl.had_error, 0);
        CHECK_STR(cl.protocol, "TLSv1.3");
        tu_client_free(&cl);
        printf("our path client -> node tls server: echoed\n");
        close(c.in_fd);
        CHECK_INT(tu_wait_child(&c, 10000), 0);
    }
    snprintf(client_path, sizeof client_path, "%s/o.sock", dir);
    {
        char *argv[] = {"openssl", "s_server", "-unix", client_path, "-key", (char *)tu_cert("server-ec-key.pem"),
                        "-cert", (char *)tu_cert("server-ec-cert.pem"), "-rev", "-naccept", "1", NULL};
        tu_child c;
        tu_spawn(&c, argv);
        int ready = 0;
        while (!ready && tu_read_line(&c, line, sizeof line, 10000)) ready = strstr(line, "ACCEPT") != NULL;
        CHECK(ready);
        cl.send_on_secure = "hello openssl\n";
        cl.hold = 1;
        tu_client_connect(&cl, NULL, 0, use_client_path);
        WAIT_FOR(strstr(cl.received, "lssnepo olleh") != NULL, 10000);
        CHECK_INT(ntls_socket_authorized(cl.s), 1);
        CHECK_INT(ntls_socket_remote_address(cl.s, host, sizeof host, NULL, NULL), NTLS_ENOTCONN);
        ntls_socket_end(cl.s);
        tu_client_wait_closed(&cl, 10000);
        tu_client_free(&cl);
        printf("our path client -> openssl s_server -unix: reversed line\n");
        tu_wait_child(&c, 5000);
    }

    /* Nothing at the path: Node's "connect ENOENT <path>". */
    snprintf(client_path, sizeof client_path, "%s/nothing.sock", dir);
    cl.send_on_secure = NULL;
    tu_client_connect(&cl, NULL, 0, use_client_path);
    tu_client_wait_closed(&cl, 10000);
    CHECK_STR(cl.error_code, "ENOENT");
    CHECK_INT(cl.had_error, 1);
    tu_client_free(&cl);

    /* Closing the server removes its socket file (libuv unlinks what it bound). */
    tu_close_server(srv);
    CHECK_INT(ntls_server_address(srv, host, sizeof host, NULL, NULL), NTLS_ENOTCONN);
    CHECK(stat(path, &st) != 0);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    unlink(stale);
    unlink(plain);
    rmdir(dir);
    printf("unix-domain sockets: node, openssl, curl, both directions\n");
    return 0;
}
