/* A peer's renegotiation request (TLS 1.2, `openssl s_client` then R) is always refused,
 * and the server goes on serving others. */
#include "client_util.h"

#include <unistd.h>

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    char connect[64], line[1024];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", e.port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-tls1_2", "-CAfile",
                    (char *)tu_cert("ca-cert.pem"), NULL};
    tu_child c;
    tu_spawn(&c, argv);
    tu_write_child(&c, "before\n");
    int echoed = 0, renegotiating = 0, refused = 0;
    while (!echoed && tu_read_line(&c, line, sizeof line, 10000)) echoed = !strcmp(line, "before");
    CHECK(echoed);
    tu_write_child(&c, "R\n");
    while (tu_read_line(&c, line, sizeof line, 5000)) {
        if (strstr(line, "RENEGOTIATING")) renegotiating = 1;
        if (strstr(line, "no renegotiation")) refused = 1;
    }
    printf("renegotiating=%d refused=%d\n", renegotiating, refused);
    CHECK(renegotiating && refused);
    tu_wait_child(&c, 5000);
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);

    tu_client other; /* still serving */
    other.send_on_secure = "still here";
    other.hold = 0;
    tu_client_connect(&other, NULL, e.port, NULL);
    tu_client_wait_closed(&other, 5000);
    CHECK_STR(other.received, "still here");
    tu_client_free(&other);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
