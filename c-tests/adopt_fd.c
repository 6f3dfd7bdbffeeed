/* Descriptors the program already has. ntls_server_accept_fd (Node's
 * server.emit('connection', socket)): a connection the program accepted gets the server's
 * SNI contexts, ALPN and events, from Node's tls and openssl s_client, and a Unix
 * socketpair end; ntls_server_listen_fd on a TCP and a Unix listener the program made;
 * systemd socket activation through systemd-socket-activate and through the same protocol
 * by hand (LISTEN_FDS, LISTEN_PID, fd 3). Who closes each descriptor is checked with
 * fcntl(F_GETFD): on success it is the library's, on a refused call it stays the caller's. */
#include "client_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int fd_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

static int tcp_listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 16) == 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

static atomic_int secure_count, listen_status = 1, srv_closed;
static char last_servername[64], last_alpn[32];

/* Echoes; an HTTP request (curl's) gets a response naming the server and the end. */
static void srv_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)d;
    if (len >= 5 && memcmp(buf, "POST ", 5) == 0) {
        const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nadopted\r\n";
        ntls_socket_write(s, r, strlen(r), NULL, NULL);
        ntls_socket_end(s);
        return;
    }
    ntls_socket_write(s, buf, len, NULL, NULL);
}

static void srv_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    const char *sn = ntls_socket_servername(s), *alpn = ntls_socket_alpn_protocol(s);
    snprintf(last_servername, sizeof last_servername, "%s", sn ? sn : "");
    snprintf(last_alpn, sizeof last_alpn, "%s", alpn ? alpn : "");
    ntls_socket_on_data(s, srv_data);
    atomic_fetch_add(&secure_count, 1);
}

static void on_listen(ntls_server *srv, int status, void *d) {
    (void)srv, (void)d;
    atomic_store(&listen_status, status);
}

static void on_srv_close(ntls_server *srv, void *d) {
    (void)srv, (void)d;
    atomic_store(&srv_closed, 1);
}

static ntls_server *echo_server(void) {
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_add_string(so, NTLS_OPT_ALPN_PROTOCOLS, "h2");
    ntls_options_add_string(so, NTLS_OPT_ALPN_PROTOCOLS, "http/1.1");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_options_unref(so);
    ntls_server_on_secure_connection(srv, srv_secure);
    ntls_server_on_close(srv, on_srv_close);
    return srv;
}

static void close_server(ntls_server *srv) {
    atomic_store(&srv_closed, 0);
    CHECK_INT(ntls_server_close(srv, NULL), 0);
    WAIT_FOR(atomic_load(&srv_closed) == 1, 10000);
}

/* The child half of socket activation: serve one connection on fd 3, then exit. */
static int activated(void) {
    tu_init(30);
    int n = ntls_listen_fds(1);
    if (n != 1) {
        printf("{\"error\":\"ntls_listen_fds answered %d\"}\n", n);
        return 1;
    }
    CHECK(getenv("LISTEN_FDS") == NULL && getenv("LISTEN_PID") == NULL); /* unset_environment */
    CHECK((fcntl(NTLS_LISTEN_FDS_START, F_GETFD) & FD_CLOEXEC) != 0);
    ntls_server *srv = echo_server();
    CHECK_INT(ntls_server_listen_fd(srv, NTLS_LISTEN_FDS_START, on_listen), 0);
    WAIT_FOR(atomic_load(&listen_status) == 0, 5000);
    int port = 0;
    CHECK_INT(ntls_server_address(srv, NULL, 0, &port, NULL), 0);
    printf("{\"listening\":%d}\n", port);
    fflush(stdout);
    WAIT_FOR(atomic_load(&secure_count) == 1 && ntls_server_connections(srv) == 0, 20000);
    close_server(srv);
    ntls_server_unref(srv);
    return 0;
}

/* Node's tls client through a port whose connection is activated or accepted by us. */
static void node_echo(int port, const char *what) {
    char p[16], script[512], line[1024], v[64];
    snprintf(p, sizeof p, "%d", port);
    snprintf(script, sizeof script, "%s/node_client.js", tu_peers_dir());
    char *argv[] = {"node", script, p, (char *)tu_cert("ca-cert.pem"), "http/1.1", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, sizeof line, 30000));
    printf("node client, %s: %s\n", what, line);
    tu_json(line, "echo_ok", v, sizeof v);
    CHECK_STR(v, "true");
    tu_json(line, "alpn", v, sizeof v);
    CHECK_STR(v, "http/1.1");
    CHECK_INT(tu_wait_child(&c, 10000), 0);
}

static void activation(int by_systemd) {
    int port = tu_closed_port();
    char line[256], exe[512], listen_on[64];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    CHECK(n > 0);
    exe[n] = 0;
    tu_child c;
    if (by_systemd) {
        snprintf(listen_on, sizeof listen_on, "127.0.0.1:%d", port);
        char *argv[] = {"systemd-socket-activate", "-l", listen_on, exe, "activated", NULL};
        tu_spawn(&c, argv);
    } else {
        /* What a launcher does: the listener at fd 3, LISTEN_FDS=1, LISTEN_PID=the child. */
        int lfd = tcp_listener(&port);
        int out[2];
        CHECK(pipe(out) == 0);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(out[1], 1);
            dup2(lfd, 3);
            char pidtext[16];
            snprintf(pidtext, sizeof pidtext, "%d", (int)getpid());
            setenv("LISTEN_PID", pidtext, 1);
            setenv("LISTEN_FDS", "1", 1);
            execl(exe, exe, "activated", (char *)NULL);
            _exit(127);
        }
        close(out[1]);
        close(lfd);
        c.pid = pid;
        c.out_fd = out[0];
        c.in_fd = -1;
    }
    if (by_systemd) {
        /* systemd-socket-activate starts the program at the first connection. */
        node_echo(port, "systemd-socket-activate");
        /* (its own "Listening on ..." line comes first) */
        do {
            CHECK(tu_read_line(&c, line, sizeof line, 10000));
        } while (strstr(line, "\"listening\"") == NULL);
    } else {
        CHECK(tu_read_line(&c, line, sizeof line, 10000));
        node_echo(port, "LISTEN_FDS by hand");
    }
    printf("activated child: %s\n", line);
    CHECK(strstr(line, "listening") != NULL);
    CHECK_INT(tu_wait_child(&c, 10000), 0);
}

/* Our own client over the other end of a socketpair (wrap_fd, client role). */
static void socketpair_client(ntls_server *srv) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK_INT(ntls_server_accept_fd(srv, sv[0]), 0);
    CHECK(!fd_open(sv[0]));
    tu_client cl;
    memset(&cl, 0, sizeof cl);
    cl.send_on_secure = "through a socketpair";
    ntls_options *co;
    ntls_options_new(&co);
    tu_add_pem(co, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(co, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_string(co, NTLS_OPT_ALPN_PROTOCOLS, "h2");
    CHECK_INT(ntls_socket_new(NULL, &cl.s), 0);
    tu_client_watch(&cl);
    CHECK_INT(ntls_socket_wrap_fd(cl.s, sv[1], co), 0);
    tu_client_wait_closed(&cl, 10000);
    CHECK_STR(cl.received, "through a socketpair");
    CHECK_INT(cl.had_error, 0);
    CHECK_STR(last_alpn, "h2");
    CHECK(!fd_open(sv[1])); /* the wrapped socket closed its descriptor at close */
    tu_client_free(&cl);
    ntls_options_unref(co);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "activated") == 0) return activated();
    tu_init(90);
    CHECK_INT(ntls_listen_fds(0), 0); /* nothing was passed to this process */

    /* accept_fd: a server that never listens, with a second context for wrong.example.com. */
    ntls_server *srv = echo_server();
    ntls_options *wo = tu_server_options("wronghost");
    ntls_context *wrong;
    CHECK_INT(ntls_context_new(wo, &wrong), 0);
    CHECK_INT(ntls_server_add_context(srv, "wrong.example.com", wrong), 0);
    int port, lfd = tcp_listener(&port);

    /* Refusals leave the descriptor open and the caller's. */
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK_INT(ntls_server_accept_fd(srv, p[0]), NTLS_EINVAL);
    CHECK(fd_open(p[0]));
    CHECK_INT(ntls_server_accept_fd(srv, lfd), NTLS_EINVAL); /* a listener is no connection */
    CHECK(fd_open(lfd));
    CHECK_INT(ntls_server_accept_fd(srv, -1), NTLS_EINVAL);
    CHECK_INT(ntls_server_accept_fd(NULL, p[0]), NTLS_EINVAL);
    int udp = socket(AF_INET, SOCK_DGRAM, 0);
    CHECK_INT(ntls_server_accept_fd(srv, udp), NTLS_EINVAL);
    CHECK(fd_open(udp));
    close(udp);

    /* Node's tls client: accepted by the program, served by the server (ALPN, echo). */
    {
        char pt[16], script[512], line[1024], v[64];
        snprintf(pt, sizeof pt, "%d", port);
        snprintf(script, sizeof script, "%s/node_client.js", tu_peers_dir());
        char *nargv[] = {"node", script, pt, (char *)tu_cert("ca-cert.pem"), "http/1.1", NULL};
        tu_child c;
        tu_spawn(&c, nargv);
        int fd = accept(lfd, NULL, NULL);
        CHECK(fd >= 0);
        CHECK_INT(ntls_server_accept_fd(srv, fd), 0);
        CHECK(!fd_open(fd)); /* the server's from here */
        CHECK(tu_read_line(&c, line, sizeof line, 30000));
        printf("node client via accept_fd: %s\n", line);
        tu_json(line, "echo_ok", v, sizeof v);
        CHECK_STR(v, "true");
        tu_json(line, "alpn", v, sizeof v);
        CHECK_STR(v, "http/1.1");
        CHECK_INT(tu_wait_child(&c, 10000), 0);
        CHECK_STR(last_alpn, "http/1.1");
    }
    /* openssl s_client asking for wrong.example.com gets addContext's certificate. */
    {
        char connect[32];
        snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
        char *oargv[] = {"openssl", "s_client", "-connect", connect, "-servername", "wrong.example.com", NULL};
        tu_child c;
        tu_spawn(&c, oargv);
        int fd = accept(lfd, NULL, NULL);
        CHECK(fd >= 0);
        CHECK_INT(ntls_server_accept_fd(srv, fd), 0);
        char line[1024];
        int seen = 0;
        while (!seen && tu_read_line(&c, line, sizeof line, 10000)) seen = strstr(line, "CN = wrong.example.com") != NULL;
        CHECK(seen);
        close(c.in_fd);
        tu_wait_child(&c, 10000);
        WAIT_FOR(atomic_load(&secure_count) == 2, 5000);
        CHECK_STR(last_servername, "wrong.example.com");
        printf("openssl s_client via accept_fd: the addContext certificate for wrong.example.com\n");
    }
    socketpair_client(srv);
    WAIT_FOR(ntls_server_connections(srv) == 0, 5000);
    close_server(srv);
    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
    CHECK_INT(ntls_server_accept_fd(srv, sp[0]), NTLS_ECLOSED); /* refused: still the caller's */
    CHECK(fd_open(sp[0]));
    close(sp[0]);
    close(sp[1]);
    ntls_server_unref(srv);
    close(p[0]);
    close(p[1]);
    ntls_context_unref(wrong);
    ntls_options_unref(wo);

    /* listen_fd on the program's TCP listener: openssl s_client echoes; the server's close
     * closes the listener (connections are refused after). */
    srv = echo_server();
    int sock = socket(AF_INET, SOCK_STREAM, 0);
    CHECK_INT(ntls_server_listen_fd(srv, sock, NULL), NTLS_EINVAL); /* not listening */
    CHECK(fd_open(sock));
    close(sock);
    CHECK_INT(ntls_server_listen_fd(srv, lfd, on_listen), 0);
    CHECK(!fd_open(lfd));
    WAIT_FOR(atomic_load(&listen_status) == 0, 5000);
    int got = 0, family = 0;
    char host[64];
    CHECK_INT(ntls_server_address(srv, host, sizeof host, &got, &family), 0);
    CHECK_INT(got, port);
    CHECK_STR(host, "127.0.0.1");
    CHECK_INT(ntls_server_listen_fd(srv, 0, NULL), NTLS_EINVAL); /* stdin: not a socket */
    {
        char connect[32], line[1024];
        snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
        char *oargv[] = {"openssl", "s_client", "-connect", connect, "-quiet", "-no_ign_eof", "-CAfile", (char *)tu_cert("ca-cert.pem"),
                         "-servername", "localhost", NULL};
        tu_child c;
        tu_spawn(&c, oargv);
        tu_write_child(&c, "through an adopted listener\n");
        int echoed = 0;
        while (!echoed && tu_read_line(&c, line, sizeof line, 10000)) echoed = strstr(line, "adopted listener") != NULL;
        CHECK(echoed);
        close(c.in_fd);
        tu_wait_child(&c, 10000);
        printf("openssl s_client via listen_fd (TCP): echoed\n");
    }
    WAIT_FOR(ntls_server_connections(srv) == 0, 5000);
    close_server(srv);
    ntls_server_unref(srv);
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(probe, (struct sockaddr *)&a, sizeof a) != 0 && errno == ECONNREFUSED);
    close(probe);

    /* listen_fd on the program's Unix listener: curl --unix-socket; the file is the
     * program's, so it stays after the server's close. */
    srv = echo_server();
    char dir[32] = "/tmp/na-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(path, sizeof path, "%s/l.sock", dir);
    int ufd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    memcpy(un.sun_path, path, strlen(path) + 1);
    CHECK(bind(ufd, (struct sockaddr *)&un, sizeof un) == 0 && listen(ufd, 8) == 0);
    atomic_store(&listen_status, 1);
    CHECK_INT(ntls_server_listen_fd(srv, ufd, on_listen), 0);
    WAIT_FOR(atomic_load(&listen_status) == 0, 5000);
    CHECK_INT(ntls_server_address(srv, host, sizeof host, &got, &family), 0);
    CHECK_STR(host, path);
    CHECK_INT(family, 0);
    {
        char *cargv[] = {"curl", "-sS", "--http1.1", "--max-time", "10", "--unix-socket", path, "--cacert",
                         (char *)tu_cert("ca-cert.pem"), "-d", "adopted unix listener", "https://localhost/", NULL};
        CHECK_INT(tu_run_count(cargv, 0, "adopted", NULL), 1);
        printf("curl --unix-socket via listen_fd (Unix): 200\n");
    }
    WAIT_FOR(ntls_server_connections(srv) == 0, 5000);
    close_server(srv);
    ntls_server_unref(srv);
    struct stat st;
    CHECK(stat(path, &st) == 0); /* not ours to remove */
    unlink(path);
    rmdir(dir);

    activation(0);
    activation(1);
    printf("adopted descriptors: node, openssl, curl, systemd-socket-activate\n");
    return 0;
}
