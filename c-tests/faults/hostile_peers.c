/* Hostile and broken peers (c-tests/faults/peers/hostile.py, Python's ssl and tlslite-ng)
 * against an echo server, each checked against what Node 20's tls.Server shows for the same
 * peer (run with that script against Node: the expected lines below are Node's events):
 * the server's events and their err.code, then no leak: connections back to 0 and the
 * process's descriptors back to their count. Each scenario runs ROUNDS times. */
#include "client_util.h"
#include "fault_util.h"

#define ROUNDS 3

typedef struct {
    const char *scenario;
    const char *events; /* the server's events, as Node 20 emits them */
    const char *peer;   /* the start of what the peer saw, or NULL */
    const char *differs; /* nodetls's events where they knowingly differ from Node's */
} fault;

static const fault faults[] = {
    {"reset_mid_record", "secure error(ECONNRESET) close(1)", "peer: reset after", NULL},
    {"truncated_handshake", "tlsClientError(ECONNRESET)", "peer: eof 0", NULL},
    {"garbage", "tlsClientError(ERR_SSL_WRONG_VERSION_NUMBER)", NULL, NULL},
    {"huge_message", "tlsClientError(ERR_SSL_EXCESSIVE_MESSAGE_SIZE)", NULL, NULL},
    {"huge_record", "tlsClientError(ERR_SSL_PACKET_LENGTH_TOO_LONG)", NULL, NULL},
    /* The second ClientHello comes in clear where TLS 1.3 expects an encrypted record:
     * OpenSSL looks at the record's type first, rustls tries to decrypt it. */
    {"repeated_hello", "tlsClientError(ERR_SSL_BAD_RECORD_TYPE)", NULL,
     "tlsClientError(ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC)"},
    {"half_close", "secure end(100000) close(0)", "peer: echoed 100000 of 100000 bytes, then eof", NULL},
    {"close_notify_then_data", "secure end(6) close(0)", "peer: sent 'before', close_notify, 'after'", NULL},
};

int main(void) {
    tu_init(120);
    fu_server f;
    ntls_options *so = tu_server_options("server-ec");
    fu_server_start(&f, NULL, so);
    fu_echo_once(f.port, "warm");
    WAIT_FOR(ntls_server_connections(f.srv) == 0, 5000);
    char log[8192], line[512];
    fu_server_take_log(&f, log, sizeof log);
    int base_fds = fu_count_fds(), failed = 0;
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        const fault *t = &faults[i];
        for (int r = 0; r < ROUNDS; r++) {
            fu_hostile(t->scenario, f.port, line, sizeof line);
            WAIT_FOR(ntls_server_connections(f.srv) == 0, 10000);
            /* the log is complete once the last event came: close, or tlsClientError */
            for (int w = 0; w < 2000; w += 5) {
                pthread_mutex_lock(&f.mu);
                size_t n = strlen(f.log);
                pthread_mutex_unlock(&f.mu);
                if (n >= strlen(t->differs ? t->differs : t->events)) break;
                tu_sleep_ms(5);
            }
            fu_server_take_log(&f, log, sizeof log);
            const char *expected = t->differs ? t->differs : t->events;
            int ok = strcmp(log, expected) == 0 && (!t->peer || strncmp(line, t->peer, strlen(t->peer)) == 0);
            if (r == 0 || !ok)
                printf("%-24s %s: server %s | %s%s%s\n", t->scenario, ok ? "ok  " : "FAIL", log, line,
                       t->differs ? " | Node 20: " : "", t->differs ? t->events : "");
            if (!ok) {
                printf("%-24s      Node 20: %s%s%s\n", "", t->events, t->peer ? " | " : "", t->peer ? t->peer : "");
                failed++;
                break;
            }
        }
        WAIT_FOR(fu_count_fds() == base_fds, 5000);
    }
    fu_server_stop(&f);
    ntls_options_unref(so);
    CHECK_INT(failed, 0);
    printf("ok: %d scenarios x %d, connections 0, descriptors back to %d\n",
           (int)(sizeof faults / sizeof faults[0]), ROUNDS, base_fds);
    return 0;
}
