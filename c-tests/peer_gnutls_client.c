/* `gnutls-cli` (a TLS stack nobody here wrote) against our server: verified, echoed. */
#include "test_util.h"

#include <unistd.h>

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-rsa");
    tu_echo_start(&e, NULL, so);
    char port[16], line[1024];
    snprintf(port, sizeof port, "%d", e.port);
    char *argv[] = {"gnutls-cli", "--x509cafile", (char *)tu_cert("ca-cert.pem"), "--sni-hostname", "localhost",
                    "--verify-hostname", "localhost", "-p", port, "127.0.0.1", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    tu_write_child(&c, "hello from gnutls\n");
    int handshake = 0, tls13 = 0, echoed = 0;
    while (tu_read_line(&c, line, sizeof line, 10000)) {
        if (strstr(line, "Handshake was completed")) handshake = 1;
        if (strstr(line, "(TLS1.3")) tls13 = 1;
        if (!strcmp(line, "hello from gnutls")) {
            echoed = 1;
            break;
        }
    }
    printf("handshake=%d tls13=%d echoed=%d\n", handshake, tls13, echoed);
    CHECK(handshake && tls13 && echoed);
    close(c.in_fd);
    c.in_fd = -1;
    tu_wait_child(&c, 5000);
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
