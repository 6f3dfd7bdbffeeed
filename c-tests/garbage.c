/* Peers that send garbage: an HTTP request to our server (tlsClientError, the server goes
 * on), and a "server" that answers a ClientHello with noise (the client's error event). */
#include "client_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static void *noise_server(void *arg) {
    int lfd = *(int *)arg;
    int fd = accept(lfd, NULL, NULL);
    char buf[4096];
    CHECK(read(fd, buf, sizeof buf) > 0); /* the ClientHello */
    const char noise[] = "HTTP/1.1 400 Bad Request\r\n\r\nthis is not TLS";
    CHECK(write(fd, noise, sizeof noise - 1) > 0);
    tu_sleep_ms(200);
    close(fd);
    return NULL;
}

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)e.port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(connect(fd, (struct sockaddr *)&a, sizeof a) == 0);
    const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    CHECK(write(fd, req, sizeof req - 1) > 0);
    WAIT_FOR(atomic_load(&e.client_errors) == 1, 5000);
    printf("HTTP request to the TLS server: %s\n", e.last_client_error);
    CHECK_STR(e.last_client_error, "ERR_SSL_HTTP_REQUEST"); /* Node's code for this */
    close(fd);
    tu_client c; /* still serving */
    c.send_on_secure = "ok";
    c.hold = 0;
    tu_client_connect(&c, NULL, e.port, NULL);
    tu_client_wait_closed(&c, 5000);
    CHECK_STR(c.received, "ok");
    tu_client_free(&c);
    tu_echo_stop(&e);
    ntls_options_unref(so);

    int port, lfd = tu_raw_listen(&port);
    pthread_t t;
    pthread_create(&t, NULL, noise_server, &lfd);
    c.send_on_secure = NULL;
    tu_client_connect(&c, NULL, port, NULL);
    tu_client_wait_closed(&c, 5000);
    printf("client against a noise server: %s\n", c.error_code);
    CHECK_INT(atomic_load(&c.had_error), 1);
    CHECK(strncmp(c.error_code, "ERR_SSL_", 8) == 0);
    tu_client_free(&c);
    pthread_join(t, NULL);
    close(lfd);
    return 0;
}
