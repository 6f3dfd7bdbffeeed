/* Connecting to a closed port: error ECONNREFUSED, then close(had_error); unknown hosts: ENOTFOUND. */
#include "test_util.h"

static atomic_int closed, had_error, status;
static char code[64], message[256], syscall_[32], address[64], hostname[64];
static atomic_int err_port;

static void on_error(ntls_socket *s, const ntls_error *err, void *d) {
    (void)s, (void)d;
    snprintf(code, sizeof code, "%s", ntls_error_code(err));
    snprintf(message, sizeof message, "%s", ntls_error_message(err));
    const char *sc = ntls_error_syscall(err), *ad = ntls_error_address(err), *h = ntls_error_host(err);
    snprintf(syscall_, sizeof syscall_, "%s", sc ? sc : "");
    snprintf(address, sizeof address, "%s", ad ? ad : "");
    snprintf(hostname, sizeof hostname, "%s", h ? h : "");
    atomic_store(&err_port, ntls_error_port(err));
    atomic_store(&status, ntls_error_status(err));
}

static void on_close(ntls_socket *s, int he, void *d) {
    (void)s, (void)d;
    atomic_store(&had_error, he);
    atomic_store(&closed, 1);
}

static void connect_to(const char *host, int port) {
    atomic_store(&closed, 0);
    ntls_options *o;
    ntls_options_new(&o);
    ntls_options_set_string(o, NTLS_OPT_HOST, host);
    ntls_options_set_int(o, NTLS_OPT_PORT, port);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    ntls_socket_on_error(s, on_error);
    ntls_socket_on_close(s, on_close);
    CHECK_INT(ntls_socket_connect(s, o), 0);
    WAIT_FOR(atomic_load(&closed), 20000);
    CHECK_INT(atomic_load(&had_error), 1);
    CHECK_INT(ntls_socket_write(s, "x", 1, NULL, NULL), NTLS_ECLOSED);
    ntls_socket_unref(s);
    ntls_options_unref(o);
}

int main(void) {
    tu_init(60);
    int port = tu_closed_port();
    connect_to("127.0.0.1", port);
    CHECK_STR(code, "ECONNREFUSED");
    CHECK_INT(atomic_load(&status), NTLS_ECONNREFUSED);
    char expected[128];
    snprintf(expected, sizeof expected, "connect ECONNREFUSED 127.0.0.1:%d", port);
    CHECK_STR(message, expected);
    /* Node's err.syscall, err.address, err.port. */
    CHECK_STR(syscall_, "connect");
    CHECK_STR(address, "127.0.0.1");
    CHECK_INT(atomic_load(&err_port), port);

    connect_to("localhost", port); /* ::1 then 127.0.0.1, both refused */
    CHECK_STR(code, "ECONNREFUSED");

    /* Port 0 is no argument error in Node's net.connect: the connect fails on the loop. */
    connect_to("127.0.0.1", 0);
    CHECK_STR(code, "ECONNREFUSED");
    CHECK_STR(message, "connect ECONNREFUSED 127.0.0.1");
    CHECK_STR(code, "ECONNREFUSED");

    connect_to("nonexistent.invalid", 443);
    CHECK_STR(code, "ENOTFOUND");
    CHECK_INT(atomic_load(&status), NTLS_EAI_NONAME);
    CHECK_STR(syscall_, "getaddrinfo"); /* Node's err.syscall and err.hostname */
    CHECK_STR(hostname, "nonexistent.invalid");
    printf("ECONNREFUSED and ENOTFOUND reported\n");
    return 0;
}
