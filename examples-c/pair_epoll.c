/*
 * nodetls-pair-epoll: a TLS echo server whose event loop is the program's own epoll loop.
 * nodetls runs no thread here: each connection is an ntls_pair that this loop feeds with
 * the bytes it reads, and whose ciphertext it writes out.
 *
 *   nodetls-pair-epoll KEY.pem CERT.pem PORT      (PORT 0: any; prints "listening on N")
 *
 * Echoes every byte with backpressure both ways (a pair whose output is not yet written
 * stops being read; an echo write that answers 0 pauses the pair until drain), ends after
 * the client's close_notify, and stops cleanly on SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include "nodetls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 16384

typedef struct conn {
    int fd;
    ntls_pair *pair;
    unsigned char in[CHUNK];  /* ciphertext read but not yet taken by the pair */
    size_t in_off, in_len;
    unsigned char out[CHUNK]; /* ciphertext pulled but not yet taken by the kernel */
    size_t out_off, out_len;
    int paused;               /* the echo met backpressure: no data events until drain */
    int closed;               /* the pair's close event fired */
    int fed_end;
} conn;

static int epfd;
static long served, open_conns;

static void on_data(ntls_pair *p, const uint8_t *buf, size_t len, void *data) {
    conn *c = data;
    if (ntls_pair_write(p, buf, len) == 0 && !c->paused) { /* over highWaterMark */
        c->paused = 1;
        ntls_pair_pause(p);
    }
}

static void on_drain(ntls_pair *p, void *data) {
    conn *c = data;
    if (c->paused) {
        c->paused = 0;
        ntls_pair_resume(p);
    }
}

static void on_error(ntls_pair *p, const ntls_error *err, void *data) {
    (void)p, (void)data;
    fprintf(stderr, "pair error: %s (%s)\n", ntls_error_code(err), ntls_error_message(err));
}

static void on_close(ntls_pair *p, int had_error, void *data) {
    (void)p, (void)had_error;
    ((conn *)data)->closed = 1; /* the loop sends what is left, then closes the descriptor */
}

static void conn_free(conn *c) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    ntls_pair_unref(c->pair);
    free(c);
    open_conns--;
}

/* Moves the pair's ciphertext to the kernel; bytes sent, or -1 when the peer is gone. */
static long flush(conn *c) {
    long sent = 0;
    for (;;) {
        if (c->out_off == c->out_len) {
            int n = ntls_pair_pull(c->pair, c->out, sizeof c->out);
            if (n <= 0) return sent;
            c->out_off = 0;
            c->out_len = (size_t)n;
        }
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) return sent;
        if (w < 0) return -1;
        c->out_off += (size_t)w;
        sent += w;
    }
}

/* Everything that can move now: feed what was read (as much as the pair takes), dispatch
 * its events, send its output, read more only once the pair took the last read. A pair
 * that holds as much cleartext as it may takes nothing, so the socket is not read and TCP
 * pushes back on the peer; its output is sent as fast as the peer reads. */
static void service(conn *c) {
    for (int round = 0; round < 64; round++) {
        int progress = 0;
        while (c->in_off < c->in_len) {
            int took = ntls_pair_feed(c->pair, c->in + c->in_off, c->in_len - c->in_off);
            if (took < 0) c->in_off = c->in_len; /* closed or failed: the reason comes from dispatch */
            if (took <= 0) break;
            c->in_off += (size_t)took;
            progress = 1;
        }
        if (ntls_pair_dispatch(c->pair) > 0) progress = 1;
        long sent = flush(c);
        if (sent < 0 || (c->closed && c->out_off == c->out_len && ntls_pair_pending(c->pair) == 0)) {
            conn_free(c);
            return;
        }
        if (sent > 0) progress = 1;
        if (c->in_off == c->in_len && !c->fed_end && !c->closed) {
            ssize_t n = recv(c->fd, c->in, sizeof c->in, 0);
            if (n > 0) {
                c->in_off = 0;
                c->in_len = (size_t)n;
                progress = 1;
            } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                ntls_pair_feed_end(c->pair);
                c->fed_end = 1;
                progress = 1;
            }
        }
        if (!progress) break;
    }
    /* Read interest only when the pair took the last read; write interest while output waits. */
    struct epoll_event ev = {0};
    int reading = c->in_off == c->in_len && !c->fed_end;
    ev.events = (reading ? EPOLLIN : 0) | (c->out_off < c->out_len || !reading ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static ntls_options *server_options;

static void accept_all(int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        if (ntls_pair_new(server_options, &c->pair) != 0) {
            fprintf(stderr, "pair: %s\n", ntls_options_last_error(server_options));
            close(fd);
            free(c);
            continue;
        }
        ntls_pair_set_data(c->pair, c);
        ntls_pair_on_data(c->pair, on_data);
        ntls_pair_on_drain(c->pair, on_drain);
        ntls_pair_on_error(c->pair, on_error);
        ntls_pair_on_close(c->pair, on_close);
        ntls_pair_start(c->pair);
        struct epoll_event ev = {0};
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
        served++;
        open_conns++;
    }
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s KEY.pem CERT.pem PORT\n", argv[0]);
        return 2;
    }
    ntls_options_new(&server_options);
    if (ntls_options_add_file(server_options, NTLS_OPT_KEY, argv[1]) != 0 ||
        ntls_options_add_file(server_options, NTLS_OPT_CERT, argv[2]) != 0 ||
        ntls_options_set_bool(server_options, NTLS_OPT_IS_SERVER, 1) != 0 ||
        ntls_options_set_string(server_options, NTLS_OPT_ALPN_PROTOCOLS, "http/1.1") != 0) {
        fprintf(stderr, "%s\n", ntls_options_last_error(server_options));
        return 1;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    socklen_t alen = sizeof a;
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[3]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 128) != 0) {
        perror("listen");
        return 1;
    }
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {0};
    ev.events = EPOLLIN;
    ev.data.ptr = &lfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
    ev.data.ptr = &sfd;
    epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
    printf("listening on %d\n", ntohs(a.sin_port));
    fflush(stdout);
    for (int stopping = 0; !stopping;) {
        struct epoll_event evs[64];
        int n = epoll_wait(epfd, evs, 64, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == &lfd) {
                accept_all(lfd);
            } else if (evs[i].data.ptr == &sfd) {
                stopping = 1;
            } else {
                service(evs[i].data.ptr);
            }
        }
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("served %ld connections, %ld open at exit, peak RSS %ld KiB\n", served, open_conns, ru.ru_maxrss);
    close(lfd);
    ntls_options_unref(server_options);
    return 0;
}
