/* A client that records what happened to it, shared by tests that only need outcomes. */
#ifndef NODETLS_CLIENT_UTIL_H
#define NODETLS_CLIENT_UTIL_H
#include "test_util.h"

typedef struct {
    ntls_socket *s;
    atomic_int secure, ended, closed, had_error, errors;
    char error_code[96];
    char received[4096];
    atomic_size_t received_len;
    const char *send_on_secure; /* written once secure, then end() once echoed back */
    int hold;                   /* with send_on_secure: don't end after the echo */
    char protocol[16];          /* getProtocol() when secure */
    ntls_cert *peer;            /* getPeerCertificate(true) when secure; tu_client_free drops it */
} tu_client;

/* Connects to 127.0.0.1:port with the test CA; `configure` may add options (or NULL). */
void tu_client_connect(tu_client *c, ntls_loop *loop, int port, void (*configure)(ntls_options *));
/* Records c->s's events into c (what tu_client_connect does for its own socket). */
void tu_client_watch(tu_client *c);
/* Waits for the close event. */
void tu_client_wait_closed(tu_client *c, int ms);
/* Drops the socket and the certificate taken when it was secure. */
void tu_client_free(tu_client *c);
#endif
