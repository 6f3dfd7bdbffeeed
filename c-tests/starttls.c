/* examples-c/starttls_server.c, run as a program: `openssl s_client -starttls smtp` gets the
 * plain greeting, EHLO (250-STARTTLS) and STARTTLS (220), then TLS on the same descriptor
 * (wrap_fd, server role) with a verified certificate and the dialogue encrypted; a client
 * that pipelines a command behind STARTTLS is refused. */
#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static int raw_line(int fd, char *buf, size_t len) {
    size_t n = 0;
    char ch;
    while (n + 1 < len && read(fd, &ch, 1) == 1) {
        buf[n++] = ch;
        if (ch == '\n') break;
    }
    buf[n] = 0;
    return (int)n;
}

int main(void) {
    tu_init(60);
    char exe[512], line[1024];
    snprintf(exe, sizeof exe, "%s/nodetls-starttls-server", NODETLS_BIN);
    char *argv[] = {exe, "--key", (char *)tu_cert("server-ec-key.pem"), "--cert", (char *)tu_cert("server-ec-cert.pem"),
                    "--count", "2", NULL};
    tu_child srv;
    tu_spawn(&srv, argv);
    CHECK(tu_read_line(&srv, line, sizeof line, 10000));
    int port = 0;
    CHECK(sscanf(line, "listening on %d", &port) == 1);

    char connect_to[32];
    snprintf(connect_to, sizeof connect_to, "127.0.0.1:%d", port);
    char *cargv[] = {"openssl", "s_client", "-starttls", "smtp", "-connect", connect_to, "-CAfile",
                     (char *)tu_cert("ca-cert.pem"), "-verify_return_error", "-servername", "localhost", "-crlf",
                     "-quiet", "-no_ign_eof", NULL};
    tu_child c;
    tu_spawn(&c, cargv);
    tu_write_child(&c, "EHLO test.example\nNOOP\nQUIT\n");
    int over_tls = 0, noop = 0, bye = 0;
    while (tu_read_line(&c, line, sizeof line, 10000)) {
        printf("s_client: %s\n", line);
        over_tls |= strstr(line, "250-nodetls over TLS") != NULL;
        noop |= strstr(line, "250 2.0.0 OK") != NULL;
        if (strstr(line, "221 2.0.0 Bye")) {
            bye = 1;
            break;
        }
    }
    CHECK(over_tls && noop && bye);
    tu_wait_child(&c, 10000);

    /* A command pipelined behind STARTTLS: refused, never read as if it came through TLS. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(raw_line(fd, line, sizeof line) > 0 && strncmp(line, "220 ", 4) == 0);
    const char *burst = "EHLO x\r\nSTARTTLS\r\nMAIL FROM:<injected@example>\r\n";
    CHECK(write(fd, burst, strlen(burst)) == (ssize_t)strlen(burst));
    int refused = 0;
    while (raw_line(fd, line, sizeof line) > 0) {
        printf("raw: %s", line);
        refused |= strncmp(line, "554 ", 4) == 0;
    }
    CHECK(refused);
    close(fd);
    printf("pipelined STARTTLS: refused\n");
    CHECK_INT(tu_wait_child(&srv, 10000), 0);
    return 0;
}
