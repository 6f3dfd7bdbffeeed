/* curl against a tiny HTTPS responder on our server: verified, ALPN http/1.1, a 200. */
#define _GNU_SOURCE
#include "test_util.h"

#include <string.h>
#include <unistd.h>

static const char response[] = "HTTP/1.1 200 OK\r\nContent-Length: 16\r\nConnection: close\r\n\r\nok from nodetls\n";
static atomic_int served;

static void on_request(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)d;
    if (memmem(buf, len, "\r\n\r\n", 4)) {
        ntls_socket_write(s, response, strlen(response), NULL, NULL);
        ntls_socket_end(s);
        atomic_fetch_add(&served, 1);
    }
}

static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    CHECK_STR(ntls_socket_alpn_protocol(s), "http/1.1");
    CHECK_STR(ntls_socket_servername(s), "localhost");
    ntls_socket_on_data(s, on_request);
}

int main(void) {
    tu_init(60);
    ntls_options *so = tu_server_options("server-ec");
    ntls_options_set_string(so, NTLS_OPT_ALPN_PROTOCOLS, "http/1.1");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, so, &srv), 0);
    ntls_server_on_secure_connection(srv, on_secure);
    int port = tu_listen(srv);
    char url[128], resolve[128], line[1024];
    snprintf(url, sizeof url, "https://localhost:%d/", port);
    snprintf(resolve, sizeof resolve, "localhost:%d:127.0.0.1", port);
    char *argv[] = {"curl", "-sS", "--max-time", "20", "--cacert", (char *)tu_cert("ca-cert.pem"), "--resolve", resolve,
                    "-w", "http=%{http_version} code=%{response_code} verify=%{ssl_verify_result}\n", url, NULL};
    tu_child c;
    tu_spawn(&c, argv);
    CHECK(tu_read_line(&c, line, sizeof line, 20000));
    CHECK_STR(line, "ok from nodetls");
    CHECK(tu_read_line(&c, line, sizeof line, 20000));
    printf("curl: %s\n", line);
    CHECK_STR(line, "http=1.1 code=200 verify=0");
    CHECK_INT(tu_wait_child(&c, 10000), 0);
    CHECK_INT(atomic_load(&served), 1);
    tu_close_server(srv);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    return 0;
}
