/* Attacks the claim that `tlsClientError` means a client failed its handshake: a client that
 * completes its handshake and closes at once must give the server `secureConnection` (or
 * nothing), never `tlsClientError`. Against one nodetls server, in TLS 1.3 and TLS 1.2:
 *   our client calling ntls_socket_destroy inside secureConnect     (200 times)
 *   our client calling ntls_socket_end inside secureConnect         (200 times)
 *   openssl s_client with stdin at EOF (handshakes, then quits)     (20 times)
 *   Node's tls.connect(..., () => socket.destroy())                 (50 connections)
 * Every variant counts tlsClientError (expect 0) and secureConnection. The same clients are
 * then run against Node's own tls.createServer as the reference; its counts are printed. */
#include "client_util.h"

#include <unistd.h>

#define OURS 200
#define OPENSSL_RUNS 20
#define NODE_CONNS 50
#define CONCURRENT 8

static int target_port;
static ntls_loop *client_loop; /* our clients run on a loop of their own, beside the server's */
static const char *max_version;

typedef struct {
    ntls_socket *s;
    int mode;
    atomic_int secure, closed, errors;
    char code[64];
} client;

static client clients[OURS];
static atomic_int in_flight;

static void c_secure(ntls_socket *s, void *d) {
    client *c = d;
    atomic_store(&c->secure, 1);
    if (c->mode == 0) ntls_socket_destroy(s);
    else ntls_socket_end(s);
}
static void c_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s;
    client *c = d;
    snprintf(c->code, sizeof c->code, "%s", ntls_error_code(err));
    atomic_fetch_add(&c->errors, 1);
}
static void c_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)he;
    client *c = d;
    atomic_store(&c->closed, 1);
    atomic_fetch_sub(&in_flight, 1);
}

/* n of our clients, CONCURRENT at a time; returns how many reached secureConnect. */
static int our_clients(int n, int mode, int *client_errors) {
    ntls_options *o;
    CHECK_INT(ntls_options_new(&o), 0);
    tu_add_pem(o, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(o, NTLS_OPT_HOST, "127.0.0.1");
    ntls_options_set_string(o, NTLS_OPT_SERVERNAME, "localhost");
    ntls_options_set_int(o, NTLS_OPT_PORT, target_port);
    CHECK_INT(ntls_options_set_string(o, NTLS_OPT_MAX_VERSION, max_version), 0);
    for (int i = 0; i < n; i++) {
        while (atomic_load(&in_flight) >= CONCURRENT) tu_sleep_ms(1);
        client *c = &clients[i];
        memset(c, 0, sizeof *c);
        c->mode = mode;
        CHECK_INT(ntls_socket_new(client_loop, &c->s), 0);
        ntls_socket_set_data(c->s, c);
        ntls_socket_on_secure_connect(c->s, c_secure);
        ntls_socket_on_error(c->s, c_error);
        ntls_socket_on_close(c->s, c_close);
        ntls_socket_resume(c->s); /* end(): read, so the server's close is seen */
        atomic_fetch_add(&in_flight, 1);
        CHECK_INT(ntls_socket_connect(c->s, o), 0);
    }
    WAIT_FOR(atomic_load(&in_flight) == 0, 20000);
    int secure = 0;
    *client_errors = 0;
    for (int i = 0; i < n; i++) {
        secure += atomic_load(&clients[i].secure);
        *client_errors += atomic_load(&clients[i].errors) > 0;
        ntls_socket_unref(clients[i].s);
    }
    ntls_options_unref(o);
    return secure;
}

static void openssl_clients(int n) {
    char connect[64], line[512];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", target_port);
    for (int i = 0; i < n; i++) {
        char *argv12[] = {"openssl", "s_client", "-connect", connect, "-tls1_2", NULL};
        char *argv13[] = {"openssl", "s_client", "-connect", connect, NULL};
        tu_child ch;
        tu_spawn(&ch, strcmp(max_version, "TLSv1.2") == 0 ? argv12 : argv13);
        close(ch.in_fd); /* stdin at EOF: s_client handshakes, then quits */
        ch.in_fd = -1;
        while (tu_read_line(&ch, line, sizeof line, 5000)) {
        }
        tu_wait_child(&ch, 5000);
    }
}

static void node_clients(int n) {
    char script[512], port[16], count[16], line[1024];
    snprintf(script, sizeof script, "%s/quick_client.js", tu_peers_dir());
    snprintf(port, sizeof port, "%d", target_port);
    snprintf(count, sizeof count, "%d", n);
    char *argv[] = {"node", script, port, count, (char *)max_version, NULL};
    tu_child ch;
    tu_spawn(&ch, argv);
    CHECK(tu_read_line(&ch, line, sizeof line, 30000));
    printf("      node client saw %s\n", line);
    tu_wait_child(&ch, 5000);
}

static const char *variant_names[] = {"ours: destroy in secureConnect", "ours: end in secureConnect",
                                      "openssl s_client </dev/null", "node: destroy in secureConnect"};
static const int reps[] = {OURS, OURS, OPENSSL_RUNS, NODE_CONNS};

static void run_variant(int v) {
    int errs;
    switch (v) {
    case 0: our_clients(OURS, 0, &errs); break;
    case 1: our_clients(OURS, 1, &errs); break;
    case 2: openssl_clients(OPENSSL_RUNS); break;
    case 3: node_clients(NODE_CONNS); break;
    }
}

/* Node's tls.createServer: the reference. */
static int our_errors[2][4], node_errors[2][4], node_reps[2][4];
static tu_child node_srv;
static void node_stats(char *line, size_t len) {
    tu_write_child(&node_srv, "stats\n");
    CHECK(tu_read_line(&node_srv, line, len, 10000));
}

int main(void) {
    tu_init(58);
    CHECK_INT(ntls_loop_new(&client_loop), 0);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    const char *versions[] = {"TLSv1.3", "TLSv1.2"};
    for (int ver = 0; ver < 2; ver++) {
        max_version = versions[ver];
        target_port = e.port;
        printf("nodetls server, %s:\n", max_version);
        for (int v = 0; v < 4; v++) {
            int s0 = atomic_load(&e.secure), c0 = atomic_load(&e.client_errors);
            run_variant(v);
            WAIT_FOR(ntls_server_connections(e.srv) == 0, 10000);
            int s = atomic_load(&e.secure) - s0, c = atomic_load(&e.client_errors) - c0;
            printf("  %-32s x%-3d secureConnection %3d, tlsClientError %3d%s%s\n", variant_names[v], reps[v], s, c,
                   c ? ", e.g. " : "", c ? e.last_client_error : "");
            our_errors[ver][v] = c;
        }
    }
    tu_echo_stop(&e);
    ntls_options_unref(so);

    /* The same clients against Node's own server: the reference, printed next to ours. */
    char script[512], line[1024], v[32];
    snprintf(script, sizeof script, "%s/client_error_server.js", tu_peers_dir());
    char *argv[] = {"node", script, (char *)tu_cert(""), NULL};
    tu_spawn(&node_srv, argv);
    CHECK(tu_read_line(&node_srv, line, sizeof line, 20000));
    CHECK(tu_json(line, "port", v, sizeof v));
    target_port = atoi(v);
    for (int ver = 0; ver < 2; ver++) {
        max_version = versions[ver];
        printf("node's tls.createServer (reference), %s:\n", max_version);
        for (int var = 0; var < 4; var++) {
            char before[1024], sec0[16], err0[16], sec1[16], err1[16];
            node_stats(before, sizeof before);
            int reps_node = var < 2 ? 50 : var == 2 ? 5 : 20;
            if (var < 2) {
                int errs;
                our_clients(reps_node, var, &errs);
            } else if (var == 2) {
                openssl_clients(reps_node);
            } else {
                node_clients(reps_node);
            }
            node_stats(line, sizeof line);
            CHECK(tu_json(before, "secure", sec0, sizeof sec0) && tu_json(before, "clientErrors", err0, sizeof err0));
            CHECK(tu_json(line, "secure", sec1, sizeof sec1) && tu_json(line, "clientErrors", err1, sizeof err1));
            int c = atoi(err1) - atoi(err0);
            node_errors[ver][var] = c;
            node_reps[ver][var] = reps_node;
            printf("  %-32s x%-3d secureConnection %3d, tlsClientError %3d   (totals %s)\n", variant_names[var],
                   reps_node, atoi(sec1) - atoi(sec0), c, line);
        }
    }
    close(node_srv.in_fd);
    node_srv.in_fd = -1;
    tu_wait_child(&node_srv, 5000);

    /* Node is the judge: a tlsClientError is false when Node's server, given the same
     * clients, reports none. (Node's own TLS 1.3 client discards its Finished when it
     * destroys in its connect callback, so both servers rightly see a cut handshake.) */
    int false_failures = 0;
    for (int ver = 0; ver < 2; ver++)
        for (int var = 0; var < 4; var++) {
            if (!our_errors[ver][var]) continue;
            int node_agrees = node_errors[ver][var] > 0;
            fprintf(stderr, "%s %s, %s: %d of %d gave tlsClientError on nodetls (Node's own server: %d of %d)\n",
                    node_agrees ? "same as Node:" : "FAIL", versions[ver], variant_names[var], our_errors[ver][var],
                    reps[var], node_errors[ver][var], node_reps[ver][var]);
            if (!node_agrees) false_failures += our_errors[ver][var];
        }
    WAIT_FOR(ntls_loop_close(client_loop) == 0, 10000);
    ntls_loop_unref(client_loop);
    if (false_failures) {
        fprintf(stderr, "FAIL: %d tlsClientError(s) where Node's server reports none\n", false_failures);
        return 1;
    }
    printf("no false tlsClientError\n");
    return 0;
}
