/*
 * nodetls-starttls-server: STARTTLS, SMTP style. The greeting and the EHLO/STARTTLS
 * exchange are plain text on a descriptor the program accepted itself; after "220 Ready",
 * TLS starts on the same descriptor with ntls_socket_wrap_fd in the server role
 * (NTLS_OPT_IS_SERVER), and the dialogue goes on encrypted.
 *
 *   nodetls-starttls-server --key KEY.pem --cert CERT.pem [--port P] [--count N]
 *
 * Prints "listening on PORT", serves N connections (default 1) one after the other, and
 * exits. Try it with: openssl s_client -starttls smtp -connect 127.0.0.1:PORT -crlf
 *
 * The plain part reads byte by byte, so nothing after "STARTTLS\r\n" is consumed as text;
 * a client that sends more before our "220" (a pipelined command, the injection of
 * CVE-2011-0411) is refused instead of having those bytes read as if they came through TLS.
 */
#define _GNU_SOURCE
#include "nodetls.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static atomic_int done;

/* One line of plain text, read byte by byte; 0 at EOF or when too long. */
static int read_line(int fd, char *buf, size_t len) {
    size_t n = 0;
    while (n + 1 < len) {
        char ch;
        if (read(fd, &ch, 1) != 1) return 0;
        buf[n++] = ch;
        if (ch == '\n') {
            buf[n] = 0;
            return 1;
        }
    }
    return 0;
}

static void say(int fd, const char *text) {
    if (write(fd, text, strlen(text)) < 0) perror("write");
}

/* The plain-text part; 1 when the client asked for STARTTLS (and got "220"). */
static int plain_dialogue(int fd) {
    char line[512];
    say(fd, "220 nodetls ESMTP\r\n");
    while (read_line(fd, line, sizeof line)) {
        if (strncasecmp(line, "EHLO", 4) == 0) {
            say(fd, "250-nodetls\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(line, "STARTTLS", 8) == 0) {
            char extra;
            if (recv(fd, &extra, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
                say(fd, "554 5.5.1 data after STARTTLS refused\r\n");
                return 0;
            }
            say(fd, "220 2.0.0 Ready to start TLS\r\n");
            return 1;
        } else if (strncasecmp(line, "QUIT", 4) == 0) {
            say(fd, "221 2.0.0 Bye\r\n");
            return 0;
        } else {
            say(fd, "530 5.7.0 Must issue a STARTTLS command first\r\n");
        }
    }
    return 0;
}

typedef struct {
    char line[512];
    size_t len;
} session;

static void reply(ntls_socket *s, const char *text) { ntls_socket_write(s, text, strlen(text), NULL, NULL); }

/* The encrypted part: EHLO again (without STARTTLS now), NOOP, QUIT. */
static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    session *c = data;
    for (size_t i = 0; i < len; i++) {
        if (c->len + 1 < sizeof c->line) c->line[c->len++] = (char)buf[i];
        if (buf[i] != '\n') continue;
        c->line[c->len] = 0;
        c->len = 0;
        if (strncasecmp(c->line, "EHLO", 4) == 0) {
            reply(s, "250-nodetls over TLS\r\n250 8BITMIME\r\n");
        } else if (strncasecmp(c->line, "NOOP", 4) == 0) {
            reply(s, "250 2.0.0 OK\r\n");
        } else if (strncasecmp(c->line, "QUIT", 4) == 0) {
            reply(s, "221 2.0.0 Bye\r\n");
            ntls_socket_end(s);
        } else {
            reply(s, "502 5.5.2 Command not recognized\r\n");
        }
    }
}

static void on_error(ntls_socket *s, const ntls_error *err, void *data) {
    (void)s, (void)data;
    fprintf(stderr, "starttls: %s: %s\n", ntls_error_code(err), ntls_error_message(err));
}

static void on_close(ntls_socket *s, int had_error, void *data) {
    (void)s, (void)had_error;
    free(data);
    atomic_store(&done, 1);
}

int main(int argc, char **argv) {
    const char *key = NULL, *cert = NULL;
    int port = 0, count = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--key")) key = argv[i + 1];
        else if (!strcmp(argv[i], "--cert")) cert = argv[i + 1];
        else if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--count")) count = atoi(argv[i + 1]);
    }
    if (!key || !cert) {
        fprintf(stderr, "usage: %s --key KEY.pem --cert CERT.pem [--port P] [--count N]\n", argv[0]);
        return 2;
    }
    ntls_options *opts;
    ntls_options_new(&opts);
    if (ntls_options_add_file(opts, NTLS_OPT_KEY, key) != 0 || ntls_options_add_file(opts, NTLS_OPT_CERT, cert) != 0) {
        fprintf(stderr, "starttls: %s\n", ntls_options_last_error(opts));
        return 1;
    }
    ntls_options_set_bool(opts, NTLS_OPT_IS_SERVER, 1);

    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 8) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        perror("starttls: listen");
        return 1;
    }
    printf("listening on %d\n", ntohs(a.sin_port));
    fflush(stdout);

    for (int served = 0; served < count; served++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            perror("starttls: accept");
            return 1;
        }
        if (!plain_dialogue(fd)) {
            /* Let the client read our last reply: close with its bytes unread would reset. */
            shutdown(fd, SHUT_WR);
            struct timeval limit = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
            char sink[512];
            while (read(fd, sink, sizeof sink) > 0) {
            }
            close(fd);
            continue;
        }
        ntls_socket *s;
        ntls_socket_new(NULL, &s);
        ntls_socket_set_data(s, calloc(1, sizeof(session)));
        ntls_socket_on_data(s, on_data);
        ntls_socket_on_error(s, on_error);
        ntls_socket_on_close(s, on_close);
        atomic_store(&done, 0);
        /* From here the descriptor is the socket's: it closes it when the connection closes. */
        int rc = ntls_socket_wrap_fd(s, fd, opts);
        if (rc != 0) {
            fprintf(stderr, "starttls: wrap_fd: %s\n", ntls_socket_last_error(s));
            return 1;
        }
        while (!atomic_load(&done)) usleep(1000);
        ntls_socket_unref(s);
    }
    close(lfd);
    ntls_options_unref(opts);
    return 0;
}
