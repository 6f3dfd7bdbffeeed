/* ntls_set_log_callback: without it a handshake prints nothing (stdout and stderr are
 * captured while an openssl s_client handshake and a failing one run); with it, rustls's
 * debug records of the handshake reach the callback, and nothing above the level set;
 * NULL stops them. */
#include "client_util.h"

#include <fcntl.h>
#include <unistd.h>

static atomic_int records, rustls_records, too_verbose;
static void on_log(int level, const char *target, const char *message, void *data) {
    CHECK(data == &records);
    CHECK(target != NULL && message != NULL);
    if (level > NTLS_LOG_DEBUG || level < NTLS_LOG_ERROR) atomic_fetch_add(&too_verbose, 1);
    if (strncmp(target, "rustls", 6) == 0) atomic_fetch_add(&rustls_records, 1);
    atomic_fetch_add(&records, 1);
}

/* Two handshakes with our server: openssl s_client, and our own client. */
static void some_handshakes(void) {
    tu_echo_server e;
    tu_echo_start(&e, NULL, tu_server_options("server-ec"));
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", e.port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-CAfile", (char *)tu_cert("ca-cert.pem"), NULL};
    CHECK(tu_run_count(argv, 300, "Verify return code: 0", NULL) > 0);
    tu_client c;
    memset(&c, 0, sizeof c);
    tu_client_connect(&c, NULL, e.port, NULL);
    tu_client_wait_closed(&c, 5000);
    tu_client_free(&c);
    WAIT_FOR(atomic_load(&e.secure) >= 2, 5000);
    tu_echo_stop(&e);
}

int main(void) {
    tu_init(60);
    CHECK_INT(ntls_set_log_callback(6, on_log, NULL), NTLS_EINVAL);
    CHECK_INT(ntls_set_log_callback(-1, on_log, NULL), NTLS_EINVAL);

    /* No callback: nothing on stdout or stderr (both go to a file meanwhile). */
    char path[] = "/tmp/nodetls-log-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2);
    dup2(fd, 1);
    dup2(fd, 2);
    some_handshakes();
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    off_t printed = lseek(fd, 0, SEEK_END);
    close(fd);
    if (printed > 0) {
        char *text = tu_read_file(path, NULL);
        fprintf(stderr, "printed without a log callback:\n%s\n", text);
        exit(1);
    }
    unlink(path);
    printf("without a callback: nothing printed\n");

    CHECK_INT(ntls_set_log_callback(NTLS_LOG_DEBUG, on_log, &records), 0);
    some_handshakes();
    printf("with a callback at DEBUG: %d records, %d from rustls\n", atomic_load(&records),
           atomic_load(&rustls_records));
    CHECK(atomic_load(&rustls_records) > 0);
    CHECK_INT(atomic_load(&too_verbose), 0);

    CHECK_INT(ntls_set_log_callback(NTLS_LOG_DEBUG, NULL, NULL), 0);
    int before = atomic_load(&records);
    some_handshakes();
    CHECK_INT(atomic_load(&records), before);
    printf("NULL callback: no more records\n");
    return 0;
}
