/* Descriptor exhaustion. The process runs out of descriptors (EMFILE) while 20 clients are
 * waiting in the server's backlog: each must be refused at once (EOF or reset within 3 s)
 * instead of hanging, the server must not spin while exhausted (CPU time over a second of
 * exhaustion), and as soon as descriptors are free again a real client is served. Then the
 * connection count is 0 and the process holds the descriptors it held before. */
#include "client_util.h"
#include "fault_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAITING 20
#define MAX_FILL 4096

int main(void) {
    tu_init(60);
    tu_echo_server e;
    ntls_options *so = tu_server_options("server-ec");
    tu_echo_start(&e, NULL, so);
    fu_echo_once(e.port, "warm");
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    int base_fds = fu_count_fds();

    int clients[WAITING];
    for (int i = 0; i < WAITING; i++) CHECK((clients[i] = socket(AF_INET, SOCK_STREAM, 0)) >= 0);

    struct rlimit saved, low;
    CHECK(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    low = saved;
    low.rlim_cur = (rlim_t)fu_count_fds() + 64;
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    static int fill[MAX_FILL];
    int filled = 0, fd;
    while (filled < MAX_FILL && (fd = open("/dev/null", O_RDONLY)) >= 0) fill[filled++] = fd;
    CHECK_INT(errno, EMFILE);

    double cpu0 = fu_cpu_ms(), t0 = fu_now_ms();
    struct sockaddr_in a;
    fu_loopback(&a, e.port);
    for (int i = 0; i < WAITING; i++) {
        CHECK(connect(clients[i], (struct sockaddr *)&a, sizeof a) == 0);
        CHECK(write(clients[i], "\x16\x03\x01", 3) == 3);
    }
    int refused = 0;
    for (int i = 0; i < WAITING; i++) {
        struct pollfd p = {clients[i], POLLIN, 0};
        char b[16];
        if (poll(&p, 1, 3000) == 1 && read(clients[i], b, sizeof b) <= 0) refused++;
    }
    double refused_ms = fu_now_ms() - t0;
    tu_sleep_ms(1000); /* still exhausted, with the refused peers gone */
    double cpu_ms = fu_cpu_ms() - cpu0, wall_ms = fu_now_ms() - t0;
    printf("EMFILE: %d of %d waiting clients refused in %.0f ms; CPU %.1f ms over %.0f ms exhausted\n", refused,
           WAITING, refused_ms, cpu_ms, wall_ms);
    CHECK_INT(refused, WAITING);
    CHECK(cpu_ms < 150); /* no busy loop: the test's own polling included */
    CHECK_INT(ntls_server_connections(e.srv), 0);

    for (int i = 0; i < filled; i++) close(fill[i]);
    CHECK(setrlimit(RLIMIT_NOFILE, &saved) == 0);
    t0 = fu_now_ms();
    fu_echo_once(e.port, "served again");
    printf("descriptors free: a client was served %.0f ms later\n", fu_now_ms() - t0);

    for (int i = 0; i < WAITING; i++) close(clients[i]);
    WAIT_FOR(ntls_server_connections(e.srv) == 0, 5000);
    WAIT_FOR(fu_count_fds() == base_fds, 5000);
    tu_echo_stop(&e);
    ntls_options_unref(so);
    printf("ok: connections 0, descriptors back to %d\n", base_fds);
    return 0;
}
