/* `openssl s_client` against our server: verified TLS 1.3, ALPN, and an echoed line. */
#include "test_util.h"

#include <unistd.h>

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-rsa");
    ntls_options_set_string(so, NTLS_OPT_ALPN_PROTOCOLS, "h2,http/1.1");
    tu_echo_start(&e, NULL, so);
    char connect[64], line[1024];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", e.port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    "-servername", "localhost", "-verify_hostname", "localhost", "-verify_return_error",
                    "-alpn", "http/1.1", NULL};
    tu_child c;
    tu_spawn(&c, argv);
    tu_write_child(&c, "hello from openssl\n");
    int verified = 0, tls13 = 0, alpn = 0, echoed = 0;
    while (tu_read_line(&c, line, sizeof line, 10000)) {
        if (strstr(line, "Verify return code: 0 (ok)")) verified = 1;
        if (strstr(line, "New, TLSv1.3, Cipher is TLS_")) tls13 = 1;
        if (strstr(line, "ALPN protocol: http/1.1")) alpn = 1;
        if (!strcmp(line, "hello from openssl")) {
            echoed = 1;
            break;
        }
    }
    printf("verified=%d tls13=%d alpn=%d echoed=%d\n", verified, tls13, alpn, echoed);
    CHECK(verified && tls13 && alpn && echoed);
    close(c.in_fd); /* s_client ends the session when its input ends */
    c.in_fd = -1;
    tu_wait_child(&c, 5000);
    WAIT_FOR(atomic_load(&e.closed_sockets) == 1, 5000);
    CHECK_STR(e.last_alpn, "http/1.1");
    tu_echo_stop(&e);
    ntls_options_unref(so);
    return 0;
}
