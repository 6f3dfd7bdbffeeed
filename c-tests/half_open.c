/* allowHalfOpen with Node's semantics on every kind of socket: a server's (TCP and Unix
 * path), a wrapped server's, a client's (TCP and path) and a wrapped client's, each with
 * allowHalfOpen false and true, against Node's tls peers that send "ping" and end at once.
 * As in Node: inside `end`, readable is 0 and writable 1 (a write there still goes out);
 * afterwards, without allowHalfOpen the socket has ended itself (writable 0), with it the
 * socket stays writable until it ends. */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int half;
    atomic_int ended, closed, writable_after;
    int readable_in_end, writable_in_end;
    char got[64];
} record;

static void later(void *arg) {
    ntls_socket *s = arg;
    record *r = ntls_socket_get_data(s);
    atomic_store(&r->writable_after, ntls_socket_writable(s));
    if (ntls_socket_writable(s)) {
        ntls_socket_write(s, " later", 6, NULL, NULL);
        ntls_socket_end(s);
    }
    ntls_socket_unref(s);
}

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    record *r = d;
    (void)s;
    strncat(r->got, (const char *)buf, len < 32 ? len : 32);
}

static void on_end(ntls_socket *s, void *d) {
    record *r = d;
    r->readable_in_end = ntls_socket_readable(s);
    r->writable_in_end = ntls_socket_writable(s);
    ntls_socket_write(s, "after end", 9, NULL, NULL);
    ntls_socket_ref(s);
    CHECK_INT(ntls_loop_call(NULL, later, s), 0);
    atomic_store(&r->ended, 1);
}

static void on_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    CHECK_INT(had_error, 0);
    atomic_store(&((record *)d)->closed, 1);
}

static void on_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s, (void)d;
    fprintf(stderr, "socket error %s %s\n", ntls_error_code(e), ntls_error_message(e));
}

static void watch(ntls_socket *s, record *r) {
    ntls_socket_set_data(s, r);
    ntls_socket_on_data(s, on_data);
    ntls_socket_on_end(s, on_end);
    ntls_socket_on_close(s, on_close);
    ntls_socket_on_error(s, on_error);
}

static void srv_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv;
    watch(s, d);
}

static void check(record *r, const char *what, const char *peer_got) {
    WAIT_FOR(atomic_load(&r->closed) == 1, 10000);
    printf("%-28s allowHalfOpen=%d: in end readable=%d writable=%d, after writable=%d; ours got \"%s\", node got \"%s\"\n",
           what, r->half, r->readable_in_end, r->writable_in_end, atomic_load(&r->writable_after), r->got, peer_got);
    CHECK_STR(r->got, "ping");
    CHECK_INT(r->readable_in_end, 0);
    CHECK_INT(r->writable_in_end, 1);
    CHECK_INT(atomic_load(&r->writable_after), r->half);
    CHECK_STR(peer_got, r->half ? "after end later" : "after end");
}

static ntls_server *server(record *r, int half) {
    ntls_options *o = tu_server_options("server-ec");
    ntls_options_set_bool(o, NTLS_OPT_ALLOW_HALF_OPEN, half);
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, o, &srv), 0);
    ntls_options_unref(o);
    r->half = half;
    ntls_server_set_data(srv, r);
    ntls_server_on_secure_connection(srv, srv_secure);
    return srv;
}

/* A wrapped server socket: the program's own listener and accept. */
typedef struct {
    int lfd, port;
    record *r;
    pthread_t thread;
} wrapped_server;

static void *accept_and_wrap(void *arg) {
    wrapped_server *w = arg;
    int fd = accept(w->lfd, NULL, NULL);
    CHECK(fd >= 0);
    close(w->lfd);
    ntls_options *o = tu_server_options("server-ec");
    ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1);
    ntls_options_set_bool(o, NTLS_OPT_ALLOW_HALF_OPEN, w->r->half);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    watch(s, w->r);
    CHECK_INT(ntls_socket_wrap_fd(s, fd, o), 0);
    ntls_options_unref(o);
    ntls_socket_unref(s);
    return NULL;
}

static void wrapped_start(wrapped_server *w, record *r, int half) {
    r->half = half;
    w->r = r;
    w->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(bind(w->lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(w->lfd, 1) == 0);
    socklen_t l = sizeof a;
    getsockname(w->lfd, (struct sockaddr *)&a, &l);
    w->port = ntohs(a.sin_port);
    pthread_create(&w->thread, NULL, accept_and_wrap, w);
}

static char node_line[8][256];

static void next_got(tu_child *c, char *out, size_t len) {
    char line[512];
    CHECK(tu_read_line(c, line, sizeof line, 20000));
    CHECK(tu_json(line, "got", out, len));
}

int main(void) {
    tu_init(90);
    char dir[32] = "/tmp/nh-XXXXXX", path[2][64], ports[8][16];
    CHECK(mkdtemp(dir) != NULL);

    /* Our servers; Node's allowHalfOpen client visits each in turn. */
    record rs[6];
    memset(rs, 0, sizeof rs);
    ntls_server *srv[4];
    for (int h = 0; h < 2; h++) {
        srv[h] = server(&rs[h], h);
        snprintf(ports[h], sizeof ports[h], "%d", tu_listen(srv[h]));
        srv[2 + h] = server(&rs[2 + h], h);
        snprintf(path[h], sizeof path[h], "%s/s%d.sock", dir, h);
        CHECK_INT(ntls_server_listen_path(srv[2 + h], path[h], NULL), 0);
    }
    wrapped_server ws[2];
    for (int h = 0; h < 2; h++) {
        wrapped_start(&ws[h], &rs[4 + h], h);
        snprintf(ports[2 + h], sizeof ports[2 + h], "%d", ws[h].port);
    }
    tu_sleep_ms(50); /* the path listeners bind on the loop */
    char script[512];
    snprintf(script, sizeof script, "%s/stream_peer.js", tu_peers_dir());
    {
        char *argv[] = {"node", script, "halfclient", (char *)tu_cert("ca-cert.pem"), ports[0], ports[1], path[0], path[1],
                        ports[2], ports[3], NULL};
        tu_child c;
        tu_spawn(&c, argv);
        const char *what[] = {"server (TCP)", "server (TCP)", "server (Unix path)", "server (Unix path)",
                              "wrapped server", "wrapped server"};
        for (int i = 0; i < 6; i++) {
            next_got(&c, node_line[i], sizeof node_line[i]);
            check(&rs[i], what[i], node_line[i]);
        }
        CHECK_INT(tu_wait_child(&c, 10000), 0);
        pthread_join(ws[0].thread, NULL);
        pthread_join(ws[1].thread, NULL);
    }
    for (int i = 0; i < 4; i++) {
        tu_close_server(srv[i]);
        ntls_server_unref(srv[i]);
    }

    /* Our clients against Node's allowHalfOpen server (TCP and a path). */
    char npath[64], line[256];
    snprintf(npath, sizeof npath, "%s/node.sock", dir);
    char *argv[] = {"node", script, "halfserver", (char *)NODETLS_CERTS, npath, NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, sizeof line, 20000));
    char portv[16];
    CHECK(tu_json(line, "port", portv, sizeof portv));
    int port = atoi(portv);
    tu_sleep_ms(100); /* the path listener */
    const char *what[] = {"client (TCP)", "client (Unix path)", "wrapped client"};
    for (int kind = 0; kind < 3; kind++) {
        for (int h = 0; h < 2; h++) {
            record r;
            memset(&r, 0, sizeof r);
            r.half = h;
            ntls_options *o;
            ntls_options_new(&o);
            tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
            ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
            ntls_options_set_bool(o, NTLS_OPT_ALLOW_HALF_OPEN, h);
            ntls_socket *s;
            ntls_socket_new(NULL, &s);
            watch(s, &r);
            CHECK_INT(ntls_socket_readable(s), 0); /* not started */
            CHECK_INT(ntls_socket_writable(s), 0);
            if (kind == 2) {
                int fd = socket(AF_INET, SOCK_STREAM, 0);
                struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
                CHECK_INT(ntls_socket_wrap_fd(s, fd, o), 0);
            } else {
                if (kind == 0) {
                    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
                    ntls_options_set_int(o, NTLS_OPT_PORT, port);
                } else {
                    ntls_options_set_string(o, NTLS_OPT_PATH, npath);
                }
                CHECK_INT(ntls_socket_connect(s, o), 0);
            }
            CHECK_INT(ntls_socket_readable(s), 1); /* started: as Node's, before the connect ends */
            CHECK_INT(ntls_socket_writable(s), 1);
            char got[64];
            next_got(&c, got, sizeof got);
            check(&r, what[kind], got);
            CHECK_INT(ntls_socket_readable(s), 0); /* closed */
            CHECK_INT(ntls_socket_writable(s), 0);
            ntls_socket_unref(s);
            ntls_options_unref(o);
        }
    }
    close(c.in_fd);
    CHECK_INT(tu_wait_child(&c, 10000), 0);
    rmdir(dir);
    printf("allowHalfOpen: every kind of socket as Node\n");
    return 0;
}
