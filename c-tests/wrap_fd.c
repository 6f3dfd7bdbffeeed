/* new tls.TLSSocket(socket, options): TLS over TCP descriptors the program connected
 * itself, one end wrapped as the server (isServer), the other as the client. */
#include "client_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static atomic_int secure_count, closed_count;
static char server_got[64];

static char server_protocol[16];
static void on_secure(ntls_socket *s, void *d) {
    (void)d;
    if (ntls_socket_get_data(s) != NULL) snprintf(server_protocol, sizeof server_protocol, "%s", ntls_socket_get_protocol(s));
    atomic_fetch_add(&secure_count, 1);
    if (ntls_socket_get_data(s) == NULL) ntls_socket_write(s, "wrapped", 7, NULL, NULL); /* the client */
}

static void server_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)d;
    memcpy(server_got, buf, len < 63 ? len : 63);
    ntls_socket_end(s);
}

static void client_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)s, (void)buf, (void)len, (void)d;
}

static void on_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)d;
    fprintf(stderr, "%s side: %s %s\n", ntls_socket_get_data(s) ? "server" : "client", ntls_error_code(err),
            ntls_error_message(err));
}

static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)d;
    CHECK_INT(he, 0);
    atomic_fetch_add(&closed_count, 1);
}

int main(void) {
    tu_init(60);
    int lfd = socket(AF_INET, SOCK_STREAM, 0), cfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(lfd, 1) == 0);
    socklen_t l = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &l);
    CHECK(connect(cfd, (struct sockaddr *)&a, sizeof a) == 0);
    int sfd = accept(lfd, NULL, NULL);
    CHECK(sfd >= 0);
    close(lfd);

    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_bool(so, NTLS_OPT_IS_SERVER, 1);
    ntls_socket *srv_side, *cli_side;
    ntls_socket_new(NULL, &srv_side);
    ntls_socket_set_data(srv_side, srv_side); /* marks the server end for on_secure */
    ntls_socket_on_secure_connect(srv_side, on_secure); /* a wrapped server's "secure" */
    ntls_socket_on_data(srv_side, server_data);
    ntls_socket_on_close(srv_side, on_close);
    ntls_socket_on_error(srv_side, on_error);
    CHECK_INT(ntls_socket_wrap_fd(srv_side, sfd, so), 0);
    CHECK_INT(ntls_socket_wrap_fd(srv_side, sfd, so), NTLS_EALREADY);

    ntls_options *co;
    ntls_options_new(&co);
    tu_add_pem(co, NTLS_OPT_CA, "ca-cert.pem");
    ntls_options_set_string(co, NTLS_OPT_SERVERNAME, "localhost");
    ntls_socket_new(NULL, &cli_side);
    ntls_socket_on_secure_connect(cli_side, on_secure);
    ntls_socket_on_data(cli_side, client_data);
    ntls_socket_on_close(cli_side, on_close);
    ntls_socket_on_error(cli_side, on_error);
    CHECK_INT(ntls_socket_wrap_fd(cli_side, cfd, co), 0);

    WAIT_FOR(atomic_load(&closed_count) == 2, 10000);
    CHECK_INT(atomic_load(&secure_count), 2);
    CHECK_STR(server_got, "wrapped");
    CHECK_INT(ntls_socket_authorized(cli_side), 1);
    CHECK_STR(server_protocol, "TLSv1.3");
    CHECK(ntls_socket_get_protocol(srv_side) == NULL); /* null after close, as in Node */
    CHECK_STR(ntls_socket_servername(srv_side), "localhost");
    CHECK_INT(ntls_socket_wrap_fd(cli_side, -1, co), NTLS_EINVAL);
    ntls_socket_unref(srv_side);
    ntls_socket_unref(cli_side);
    ntls_options_unref(so);
    ntls_options_unref(co);
    printf("TLS over wrapped descriptors, both sides\n");
    return 0;
}
