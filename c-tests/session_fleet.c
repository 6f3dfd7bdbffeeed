/* The fleet: several server processes (examples-c/session_fleet.c) share their sessions
 * through a real Redis (redis-server on a loopback port, no persistence), and a client
 * resumes on another process than the one that made its session: openssl s_client and
 * Node's tls.connect, TLS 1.2 and 1.3. Then ticket-key rotation across processes: a ticket
 * made under the old keys still resumes on a process that rotated, a new ticket resumes on
 * a third, and a process that never had the old keys refuses the old ticket. */
#include "test_util.h"

#include <signal.h>
#include <unistd.h>

typedef struct {
    tu_child c;
    int port;
} member;

static void start_member(member *m, const char *mode) {
    char bin[512], line[256];
    snprintf(bin, sizeof bin, "%s/nodetls-session-fleet", NODETLS_BIN);
    char *argv[] = {bin, (char *)tu_cert("server-ec-key.pem"), (char *)tu_cert("server-ec-cert.pem"), (char *)mode,
                    NULL};
    tu_spawn(&m->c, argv);
    CHECK(tu_read_line(&m->c, line, sizeof line, 10000));
    CHECK(sscanf(line, "port %d", &m->port) == 1);
}

static void stop_member(member *m) {
    close(m->c.in_fd);
    CHECK_INT(tu_wait_child(&m->c, 5000), 0);
}

typedef struct {
    int reused, server_resumed;
    int pid;
} seen;

static void on_line(const char *line, void *arg) {
    seen *s = arg;
    int pid, r;
    if (strstr(line, "Reused, TLSv1.")) s->reused = 1;
    if (sscanf(line, "%d R%d", &pid, &r) == 2) {
        s->pid = pid;
        s->server_resumed = r;
    }
}

/* openssl s_client to `m`, saving (-sess_out) or offering (-sess_in) the session file. */
static seen openssl(const member *m, const char *version_flag, const char *sess_flag, const char *path) {
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", m->port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, (char *)version_flag, "-CAfile",
                    (char *)tu_cert("ca-cert.pem"), (char *)sess_flag, (char *)path, "-ign_eof", NULL};
    seen s = {0, 0, 0};
    tu_run_lines(argv, 0, on_line, &s); /* -ign_eof: it reads until the server ends */
    CHECK(s.pid > 0); /* the server answered */
    return s;
}

int main(void) {
    tu_init(60);
    char sess[256], sess2[256], mode[160], line[1024], v[256], script[512], p1[16], p2[16];
    snprintf(sess, sizeof sess, "%s/fleet-%d.sess", NODETLS_CERTS, (int)getpid());
    snprintf(sess2, sizeof sess2, "%s/fleet-%d-2.sess", NODETLS_CERTS, (int)getpid());

    /* Redis on a loopback port, nothing written to disk. */
    int rport = tu_closed_port();
    char rports[16];
    snprintf(rports, sizeof rports, "%d", rport);
    char *rargv[] = {"redis-server", "--port", rports, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--protected-mode", "yes", NULL};
    tu_child redis;
    CHECK(tu_spawn_ready(&redis, rargv, "Ready to accept", 10000));

    snprintf(mode, sizeof mode, "redis:%d", rport);
    member fleet[3];
    for (int i = 0; i < 3; i++) start_member(&fleet[i], mode);
    const char *flags[][2] = {{"-tls1_2", "TLSv1.2"}, {"-tls1_3", "TLSv1.3"}};
    for (int i = 0; i < 2; i++) {
        seen a = openssl(&fleet[0], flags[i][0], "-sess_out", sess);
        CHECK(!a.reused && a.server_resumed == 0);
        seen b = openssl(&fleet[1], flags[i][0], "-sess_in", sess);
        CHECK(b.reused && b.server_resumed == 1);
        CHECK(b.pid != a.pid);
        seen c = openssl(&fleet[2], flags[i][0], "-sess_in", sess);
        CHECK(c.reused && c.server_resumed == 1 && c.pid != a.pid && c.pid != b.pid);

        snprintf(script, sizeof script, "%s/session_client.js", tu_peers_dir());
        snprintf(p1, sizeof p1, "%d", fleet[2].port);
        snprintf(p2, sizeof p2, "%d", fleet[0].port);
        char *nargv[] = {"node", script, (char *)tu_cert(""), p1, (char *)flags[i][1], p2, NULL};
        tu_child node;
        tu_spawn(&node, nargv);
        CHECK(tu_read_line(&node, line, sizeof line, 20000));
        CHECK_INT(tu_wait_child(&node, 5000), 0);
        CHECK(tu_json(line, "second", v, sizeof v));
        CHECK_STR(v, "true");
        CHECK(strstr(line, " R0") && strstr(line, " R1"));
        printf("redis fleet %s: made on pid %d, resumed on %d and %d (openssl), node across two processes\n",
               flags[i][1], a.pid, b.pid, c.pid);
    }
    for (int i = 0; i < 3; i++) stop_member(&fleet[i]);
    kill(redis.pid, SIGTERM);
    CHECK_INT(tu_wait_child(&redis, 5000), 0);

    /* Ticket-key rotation across processes. */
    char keys[3][97]; /* the first keys, then one rotation per round */
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 48; i++) snprintf(keys[k] + 2 * i, 3, "%02x", (unsigned)(i * (k + 3) + k + 1) & 0xff);
    snprintf(mode, sizeof mode, "tickets:%s", keys[0]);
    for (int i = 0; i < 3; i++) start_member(&fleet[i], mode);
    for (int i = 0; i < 2; i++) {
        seen a = openssl(&fleet[0], flags[i][0], "-sess_out", sess);
        CHECK(!a.reused);
        char rotate[128];
        snprintf(rotate, sizeof rotate, "rotate %s\n", keys[i + 1]);
        for (int j = 0; j < 3; j++) {
            tu_write_child(&fleet[j].c, rotate);
            CHECK(tu_read_line(&fleet[j].c, line, sizeof line, 5000));
            CHECK_STR(line, "rotated");
        }
        seen b = openssl(&fleet[1], flags[i][0], "-sess_in", sess); /* old keys still accepted */
        CHECK(b.reused && b.server_resumed == 1 && b.pid != a.pid);
        seen c = openssl(&fleet[1], flags[i][0], "-sess_out", sess2); /* a ticket under the new keys */
        seen d = openssl(&fleet[2], flags[i][0], "-sess_in", sess2);
        CHECK(d.reused && d.pid != c.pid);
        member fresh; /* a process that only ever had the new keys */
        snprintf(mode, sizeof mode, "tickets:%s", keys[i + 1]);
        start_member(&fresh, mode);
        seen e = openssl(&fresh, flags[i][0], "-sess_in", sess);
        CHECK(!e.reused && e.server_resumed == 0);
        stop_member(&fresh);
        printf("rotation %s: an old-key ticket resumed after rotating, a new-key ticket on a third process\n",
               flags[i][1]);
    }
    for (int i = 0; i < 3; i++) stop_member(&fleet[i]);
    unlink(sess);
    unlink(sess2);
    return 0;
}
