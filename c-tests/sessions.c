/* Client sessions (Node's `session` event, getSession(), the `session` option) and
 * isSessionReused on both ends, against our own server, Node's tls.createServer and
 * `openssl s_server -www`, over TLS 1.2 and TLS 1.3. With the argument "store": the
 * server's external store (newSession / resumeSession, answered from another thread)
 * against openssl s_client, Node's tls.connect and our client. Each server tells the client what it
 * saw: ours and Node's answer "R1" (resumed) or "R0"; openssl's status page says
 * "Reused," or "New,". */
#include "test_util.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

typedef struct {
    ntls_socket *s;
    atomic_int secure, closed, sessions, reused, errors, ticket_status;
    atomic_int sessions_before_secure, session_at_secure;
    ntls_session *last;
    char got[8192];
    atomic_size_t got_len;
    const char *send;
} sc;

static void sc_secure(ntls_socket *s, void *d) {
    sc *c = d;
    atomic_store(&c->reused, ntls_socket_is_session_reused(s));
    atomic_store(&c->ticket_status, ntls_socket_get_tls_ticket(s, NULL, 0));
    ntls_session *now = NULL;
    if (ntls_socket_get_session(s, &now) == 0) {
        atomic_store(&c->session_at_secure, 1);
        ntls_session_unref(now);
    }
    if (c->send) ntls_socket_write(s, c->send, strlen(c->send), NULL, NULL);
    atomic_store(&c->secure, 1);
}
static void sc_session(ntls_socket *s, ntls_session *sess, void *d) {
    (void)s;
    sc *c = d;
    if (!atomic_load(&c->secure)) atomic_fetch_add(&c->sessions_before_secure, 1);
    CHECK(ntls_session_is_resumable(sess));
    ntls_session_ref(sess);
    if (c->last) ntls_session_unref(c->last);
    c->last = sess;
    atomic_fetch_add(&c->sessions, 1);
}
static void sc_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)s;
    sc *c = d;
    size_t at = atomic_load(&c->got_len);
    if (at + len >= sizeof c->got) len = sizeof c->got - 1 - at;
    memcpy(c->got + at, buf, len);
    c->got[at + len] = 0;
    atomic_store(&c->got_len, at + len);
}
static void sc_error(ntls_socket *s, const ntls_error *e, void *d) {
    (void)s;
    fprintf(stderr, "client error: %s %s\n", ntls_error_code(e), ntls_error_message(e));
    atomic_fetch_add(&((sc *)d)->errors, 1);
}
static void sc_close(ntls_socket *s, int had_error, void *d) {
    (void)s;
    (void)had_error;
    atomic_store(&((sc *)d)->closed, 1);
}

/* One connection to 127.0.0.1:port; `session` (or NULL) offered; `extra_ca` adds a second
 * CA, which changes what the client trusts. Returns when the server closed it. */
static void run(sc *c, int port, const char *version, ntls_session *session, const char *send, int extra_ca) {
    memset(c, 0, sizeof *c);
    c->send = send;
    ntls_options *o = NULL;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    if (extra_ca) tu_add_pem(o, NTLS_OPT_CA, "ca2-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_options_set_string(o, NTLS_OPT_MAX_VERSION, version);
    if (session) CHECK_INT(ntls_options_set_session(o, session), 0);
    CHECK_INT(ntls_socket_new(NULL, &c->s), 0);
    ntls_socket_set_data(c->s, c);
    ntls_socket_on_secure_connect(c->s, sc_secure);
    ntls_socket_on_session(c->s, sc_session);
    ntls_socket_on_data(c->s, sc_data);
    ntls_socket_on_error(c->s, sc_error);
    ntls_socket_on_close(c->s, sc_close);
    ntls_session *none = NULL;
    CHECK_INT(ntls_socket_get_session(c->s, &none), NTLS_ENOENT);
    CHECK_INT(ntls_socket_connect(c->s, o), 0);
    ntls_options_unref(o);
    WAIT_FOR(atomic_load(&c->closed), 10000);
    CHECK_INT(atomic_load(&c->errors), 0);
    CHECK_INT(atomic_load(&c->secure), 1);
    CHECK_INT(atomic_load(&c->ticket_status), NTLS_ENOTSUP);
    CHECK_INT(atomic_load(&c->sessions_before_secure), 0); /* after secureConnect, as Node */
    CHECK_INT(ntls_socket_get_session(c->s, &none), NTLS_ENOTCONN); /* Node: null after close */
    ntls_socket_unref(c->s);
}

static void drop(sc *c) {
    if (c->last) ntls_session_unref(c->last);
    c->last = NULL;
}

/* The server's word on the last connection: 1 resumed, 0 full, -1 unknown. */
static int server_saw(const sc *c) {
    if (strstr(c->got, "R1") || strstr(c->got, "Reused,")) return 1;
    if (strstr(c->got, "R0") || strstr(c->got, "New,")) return 0;
    return -1;
}

/* Full handshake, resumption with its session, then what a used session does. */
static void scenario(const char *peer, int port, const char *version, const char *send) {
    sc a, b, c2;
    run(&a, port, version, NULL, send, 0);
    CHECK_INT(a.reused, 0);
    CHECK_INT(server_saw(&a), 0);
    CHECK(a.sessions >= 1);
    CHECK(a.last != NULL);
    /* TLS 1.2: getSession() inside secureConnect already answers (Node's too) */
    if (strcmp(version, "TLSv1.2") == 0) CHECK_INT(a.session_at_secure, 1);
    CHECK_STR(ntls_session_protocol(a.last), version);

    run(&b, port, version, a.last, send, 0);
    CHECK_INT(b.reused, 1);
    CHECK_INT(server_saw(&b), 1);
    int tls13 = strcmp(version, "TLSv1.3") == 0;
    /* A TLS 1.3 ticket is offered once; a TLS 1.2 session resumes again. */
    CHECK_INT(ntls_session_is_resumable(a.last), !tls13);
    run(&c2, port, version, a.last, send, 0);
    CHECK_INT(c2.reused, !tls13);
    CHECK_INT(server_saw(&c2), !tls13);
    if (tls13) {
        /* The resumed connection's own ticket resumes the next one. */
        sc d;
        CHECK(b.last != NULL || c2.last != NULL);
        run(&d, port, version, b.last ? b.last : c2.last, send, 0);
        CHECK_INT(d.reused, 1);
        CHECK_INT(server_saw(&d), 1);
        drop(&d);
    }
    printf("%-8s %s: %d session event(s), resumed on both ends\n", peer, version, a.sessions);
    drop(&b);
    drop(&c2);

    /* A connect that trusts other CAs does not adopt a session judged under the old ones:
     * a full handshake, as with a session the server forgot. */
    sc e, f;
    run(&e, port, version, NULL, send, 0);
    run(&f, port, version, e.last, send, 1);
    CHECK_INT(f.reused, 0);
    CHECK_INT(server_saw(&f), 0);
    drop(&e);
    drop(&f);
    drop(&a);
}

static void tell(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv;
    (void)d;
    ntls_socket_resume(s);
    ntls_socket_write(s, ntls_socket_is_session_reused(s) ? "R1" : "R0", 2, NULL, NULL);
    ntls_socket_end(s);
}

static void closed(ntls_server *srv, void *d) {
    (void)srv;
    atomic_store((atomic_int *)d, 1);
}


/* ---- The server's external store: newSession / resumeSession ---------------------- */

typedef struct {
    uint8_t id[64];
    size_t id_len;
    uint8_t *data;
    size_t len;
} entry;
static entry store[256];
static int n_store;
static pthread_mutex_t store_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int new_sessions, resume_asked, resume_found, pending_new, secure_early;
static atomic_int store_mode; /* 0: answer what is stored, 1: answer none, 2: fail */
static atomic_int client_errors;
static char client_error_code[96];

typedef struct {
    ntls_request *req;
    uint8_t *data;
    size_t len;
    int fail;
    atomic_int *pending;
} answer;

/* Answers from another thread, 20 ms later: the handshake waits for it. */
static void *answer_later(void *p) {
    answer *a = p;
    tu_sleep_ms(20);
    if (a->pending) atomic_fetch_sub(a->pending, 1);
    if (a->fail) {
        CHECK_INT(ntls_request_fail(a->req, "the session store is down"), 0);
    } else {
        CHECK_INT(ntls_request_session_done(a->req, a->data, a->len), 0);
    }
    CHECK_INT(ntls_request_session_done(a->req, NULL, 0), NTLS_EALREADY);
    free(a->data);
    free(a);
    return NULL;
}

static void later(ntls_request *req, const uint8_t *data, size_t len, int fail, atomic_int *pending) {
    answer *a = calloc(1, sizeof *a);
    a->req = req;
    a->fail = fail;
    a->pending = pending;
    if (len) {
        a->data = malloc(len);
        memcpy(a->data, data, len);
        a->len = len;
    }
    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, answer_later, a), 0);
    pthread_detach(t);
}

static void on_new_session(ntls_server *srv, const uint8_t *id, size_t id_len, const uint8_t *sess, size_t len,
                           ntls_request *req, void *d) {
    (void)srv;
    (void)d;
    CHECK(id_len > 0 && id_len <= 64 && len > 0);
    pthread_mutex_lock(&store_mu);
    if (n_store < 256) {
        entry *e = &store[n_store++];
        memcpy(e->id, id, id_len);
        e->id_len = id_len;
        e->data = malloc(len);
        memcpy(e->data, sess, len);
        e->len = len;
    }
    pthread_mutex_unlock(&store_mu);
    atomic_fetch_add(&new_sessions, 1);
    atomic_fetch_add(&pending_new, 1);
    later(req, NULL, 0, 0, &pending_new);
}

static void on_resume_session(ntls_server *srv, const uint8_t *id, size_t id_len, ntls_request *req, void *d) {
    (void)srv;
    (void)d;
    atomic_fetch_add(&resume_asked, 1);
    const entry *found = NULL;
    pthread_mutex_lock(&store_mu);
    for (int i = 0; i < n_store && !found; i++)
        if (store[i].id_len == id_len && memcmp(store[i].id, id, id_len) == 0) found = &store[i];
    pthread_mutex_unlock(&store_mu);
    if (found) atomic_fetch_add(&resume_found, 1);
    int mode = atomic_load(&store_mode);
    if (mode == 0 && found)
        later(req, found->data, found->len, 0, NULL);
    else
        later(req, NULL, 0, mode == 2, NULL);
}

static void store_secure(ntls_server *srv, ntls_socket *s, void *d) {
    /* secureConnection waits for every newSession answer, as Node's server does. */
    if (atomic_load(&pending_new) != 0) atomic_fetch_add(&secure_early, 1);
    tell(srv, s, d);
}

static void store_client_error(ntls_server *srv, const ntls_error *e, ntls_socket *s, void *d) {
    (void)srv;
    (void)s;
    (void)d;
    snprintf(client_error_code, sizeof client_error_code, "%s", ntls_error_code(e));
    atomic_fetch_add(&client_errors, 1);
}

static ntls_server *store_server(int no_ticket, int *port) {
    ntls_options *so = tu_server_options("server-ec");
    if (no_ticket) ntls_options_set_int(so, NTLS_OPT_SECURE_OPTIONS, NTLS_SSL_OP_NO_TICKET);
    ntls_server *srv = NULL;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_options_unref(so);
    ntls_server_on_secure_connection(srv, store_secure);
    ntls_server_on_tls_client_error(srv, store_client_error);
    ntls_server_on_new_session(srv, on_new_session);
    ntls_server_on_resume_session(srv, on_resume_session);
    *port = tu_listen(srv);
    return srv;
}

/* openssl s_client with a session file: 1 if it printed "Reused, <version>". */
static int openssl_reused(int port, const char *version_flag, const char *version, const char *sess_flag,
                          const char *path, int no_ticket) {
    char connect[64], want[32];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    snprintf(want, sizeof want, "Reused, %s", version);
    char *argv[] = {"openssl", "s_client", "-connect", connect, (char *)version_flag, "-CAfile",
                    (char *)tu_cert("ca-cert.pem"), (char *)sess_flag, (char *)path, "-ign_eof",
                    no_ticket ? "-no_ticket" : NULL, NULL};
    return tu_run_count(argv, 0, want, NULL) > 0; /* -ign_eof: it reads until the server ends */
}

static void reset_store(int mode) {
    atomic_store(&store_mode, mode);
    atomic_store(&new_sessions, 0);
    atomic_store(&resume_asked, 0);
    atomic_store(&resume_found, 0);
    atomic_store(&client_errors, 0);
}

static void store_part(void) {
    char sess[256], line[1024], v[64], script[512], portbuf[16];
    snprintf(sess, sizeof sess, "%s/store-test-%d.sess", NODETLS_CERTS, (int)getpid());
    int port;
    ntls_server *srv = store_server(1, &port);
    const char *versions[][2] = {{"-tls1_2", "TLSv1.2"}, {"-tls1_3", "TLSv1.3"}};
    for (int i = 0; i < 2; i++) {
        /* openssl s_client: a full handshake stores its session, the next one resumes it. */
        reset_store(0);
        CHECK(!openssl_reused(port, versions[i][0], versions[i][1], "-sess_out", sess, 0));
        CHECK(atomic_load(&new_sessions) >= 1);
        CHECK(openssl_reused(port, versions[i][0], versions[i][1], "-sess_in", sess, 0));
        CHECK(atomic_load(&resume_found) >= 1);
        /* The store answers none: a full handshake. */
        reset_store(1);
        CHECK(!openssl_reused(port, versions[i][0], versions[i][1], "-sess_in", sess, 0));
        CHECK_INT(atomic_load(&resume_asked), 1);
        /* The store fails: the connection ends, tlsClientError says why. */
        reset_store(2);
        CHECK(!openssl_reused(port, versions[i][0], versions[i][1], "-sess_in", sess, 0));
        WAIT_FOR(atomic_load(&client_errors) == 1, 5000);
        CHECK_STR(client_error_code, "ERR_TLS_SESSION_STORE");
        printf("store, openssl s_client %s: stored, resumed, none -> full, failure -> tlsClientError\n",
               versions[i][1]);

        /* Our client: resumption seen on both ends through the store. */
        reset_store(0);
        sc a, b;
        run(&a, port, versions[i][1], NULL, NULL, 0);
        run(&b, port, versions[i][1], a.last, NULL, 0);
        CHECK_INT(b.reused, 1);
        CHECK_INT(server_saw(&b), 1);
        CHECK(atomic_load(&resume_found) >= 1);
        drop(&a);
        drop(&b);

        /* Node's client. */
        reset_store(0);
        snprintf(script, sizeof script, "%s/session_client.js", tu_peers_dir());
        snprintf(portbuf, sizeof portbuf, "%d", port);
        char *nargv[] = {"node", script, (char *)tu_cert(""), portbuf, (char *)versions[i][1], NULL};
        tu_child node;
        tu_spawn(&node, nargv);
        CHECK(tu_read_line(&node, line, sizeof line, 20000));
        CHECK_INT(tu_wait_child(&node, 5000), 0);
        CHECK(tu_json(line, "first", v, sizeof v));
        CHECK_STR(v, "false");
        CHECK(tu_json(line, "second", v, sizeof v));
        CHECK_STR(v, "true");
        CHECK(strstr(line, "\"R0\",\"R1\"") != NULL);
        printf("store, node and nodetls clients %s: resumed on both ends\n", versions[i][1]);
    }
    CHECK_INT(atomic_load(&secure_early), 0);
    unlink(sess);
    atomic_int done = 0;
    ntls_server_set_data(srv, &done);
    ntls_server_close(srv, closed);
    WAIT_FOR(done, 5000);
    ntls_server_unref(srv);

    /* Tickets on (the default): a TLS 1.2 client without ticket support resumes by session
     * ID through the store. */
    srv = store_server(0, &port);
    done = 0;
    ntls_server_set_data(srv, &done);
    reset_store(0);
    CHECK(!openssl_reused(port, "-tls1_2", "TLSv1.2", "-sess_out", sess, 1));
    CHECK(openssl_reused(port, "-tls1_2", "TLSv1.2", "-sess_in", sess, 1));
    CHECK(atomic_load(&resume_found) >= 1);
    printf("store with tickets on: a -no_ticket TLS 1.2 client resumes by session ID\n");
    unlink(sess);
    ntls_server_close(srv, closed);
    WAIT_FOR(done, 5000);
    ntls_server_unref(srv);
}

int main(int argc, char **argv) {
    tu_init(60);
    if (argc > 1 && strcmp(argv[1], "store") == 0) {
        store_part();
        return 0;
    }
    CHECK_INT(ntls_options_set_session(NULL, NULL), NTLS_EINVAL);
    ntls_options *bad = NULL;
    CHECK_INT(ntls_options_new(&bad), 0);
    CHECK_INT(ntls_options_set_session(bad, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_options_set_bytes(bad, NTLS_OPT_SESSION, (const uint8_t *)"x", 1), NTLS_EINVAL);
    ntls_options_unref(bad);
    CHECK(ntls_session_protocol(NULL) == NULL);
    CHECK_INT(ntls_session_is_resumable(NULL), 0);
    CHECK_INT(ntls_socket_get_session(NULL, NULL), NTLS_EINVAL);

    /* Our server. */
    ntls_options *so = tu_server_options("server-ec");
    ntls_server *srv = NULL;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, tell);
    int port = tu_listen(srv);
    scenario("nodetls", port, "TLSv1.3", NULL);
    scenario("nodetls", port, "TLSv1.2", NULL);

    /* A session from one server offered to another (other ticket keys): a full handshake. */
    ntls_server *other = NULL;
    CHECK_INT(ntls_server_new(NULL, so, &other), 0);
    ntls_server_on_secure_connection(other, tell);
    int other_port = tu_listen(other);
    sc a, b;
    run(&a, port, "TLSv1.3", NULL, NULL, 0);
    run(&b, other_port, "TLSv1.3", a.last, NULL, 0);
    CHECK_INT(b.reused, 0);
    CHECK_INT(server_saw(&b), 0);
    drop(&a);
    drop(&b);
    atomic_int done = 0, done2 = 0;
    ntls_server_set_data(srv, &done);
    ntls_server_set_data(other, &done2);
    ntls_server_close(srv, closed);
    ntls_server_close(other, closed);
    WAIT_FOR(done && done2, 5000);
    ntls_server_unref(srv);
    ntls_server_unref(other);
    ntls_options_unref(so);

    /* Node's server. */
    char script[512], line[1024], v[32];
    snprintf(script, sizeof script, "%s/session_server.js", tu_peers_dir());
    char *nargv[] = {"node", script, (char *)tu_cert(""), NULL};
    tu_child node;
    tu_spawn(&node, nargv);
    CHECK(tu_read_line(&node, line, sizeof line, 30000));
    CHECK(tu_json(line, "port", v, sizeof v));
    scenario("node", atoi(v), "TLSv1.3", NULL);
    scenario("node", atoi(v), "TLSv1.2", NULL);
    close(node.in_fd);
    CHECK_INT(tu_wait_child(&node, 5000), 0);

    /* openssl s_server -www: its status page says whether it resumed. */
    char ports[16];
    int p = tu_closed_port();
    snprintf(ports, sizeof ports, "%d", p);
    char *oargv[] = {"openssl", "s_server", "-accept", ports, "-key", (char *)tu_cert("server-ec-key.pem"),
                     "-cert", (char *)tu_cert("server-ec-cert.pem"), "-www", NULL};
    tu_child ossl;
    CHECK(tu_spawn_ready(&ossl, oargv, "ACCEPT", 10000));
    scenario("openssl", p, "TLSv1.3", "GET / HTTP/1.0\r\n\r\n");
    scenario("openssl", p, "TLSv1.2", "GET / HTTP/1.0\r\n\r\n");
    kill(ossl.pid, SIGTERM);
    tu_wait_child(&ossl, 5000);
    return 0;
}
