/* Checked on the wire with tshark (Debian's, capturing loopback): SSLKEYLOGFILE lines the
 * server appends let tshark decrypt the captured session (so every secret is right), and
 * after setMaxSendFragment(512) each application-data record carries at most 512 bytes of
 * plaintext; 511 and 16385 are refused. The client is Node's tls, TLS 1.3 then TLS 1.2. */
#include "test_util.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAYLOAD 5000
#define FRAGMENT 512
static const char unit[] = "nodetls-secret-payload ";

static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *d) {
    (void)buf, (void)len, (void)d;
    static char payload[PAYLOAD];
    for (size_t i = 0; i < PAYLOAD; i++) payload[i] = unit[i % (sizeof unit - 1)];
    ntls_socket_write(s, payload, PAYLOAD, NULL, NULL);
    ntls_socket_end(s);
}

static void on_secure(ntls_server *srv, ntls_socket *s, void *d) {
    (void)srv, (void)d;
    CHECK_INT(ntls_socket_set_max_send_fragment(s, 511), 0);
    CHECK_INT(ntls_socket_set_max_send_fragment(s, 16385), 0);
    CHECK_INT(ntls_socket_set_max_send_fragment(s, 0), 0);
    CHECK_INT(ntls_socket_set_max_send_fragment(s, 16384), 1);
    CHECK_INT(ntls_socket_set_max_send_fragment(s, FRAGMENT), 1);
    ntls_socket_on_data(s, on_data);
}

typedef struct {
    int records, largest, total, other_types;
} record_stats;

/* tshark's "content_types<TAB>data_lengths" per packet, comma lists. */
static void count_records(const char *line, void *arg) {
    record_stats *st = arg;
    const char *tab = strchr(line, '\t');
    if (!tab || !tab[1]) return;
    for (const char *p = tab + 1; *p;) {
        int n = atoi(p);
        st->records++;
        st->total += n;
        if (n > st->largest) st->largest = n;
        const char *comma = strchr(p, ',');
        if (!comma) break;
        p = comma + 1;
    }
}

static int found;
static void find_payload(const char *line, void *arg) {
    (void)arg;
    if (strstr(line, "nodetls-secret-payload nodetls-secret-payload")) found++;
}

static void one(const char *dir, const char *max_version) {
    char keylog[512], pcap[512];
    snprintf(keylog, sizeof keylog, "%s/keys-%s.log", dir, max_version);
    snprintf(pcap, sizeof pcap, "%s/capture-%s.pcap", dir, max_version);
    /* SSLKEYLOGFILE is appended to, as curl and Python do: an existing line stays first. */
    FILE *f = fopen(keylog, "w");
    CHECK(f != NULL);
    fputs("# lines before ours\n", f);
    fclose(f);
    CHECK_INT(setenv("SSLKEYLOGFILE", keylog, 1), 0);
    ntls_options *o = tu_server_options("server-ec");
    ntls_server *srv;
    CHECK_INT(ntls_server_new(NULL, o, &srv), 0); /* reads SSLKEYLOGFILE */
    ntls_options_unref(o);
    unsetenv("SSLKEYLOGFILE");
    ntls_server_on_secure_connection(srv, on_secure);
    int port = tu_listen(srv);

    char cmd[1024];
    snprintf(cmd, sizeof cmd, "exec tshark -i lo -f 'tcp port %d' -w '%s' 2>&1", port, pcap);
    char *cap_argv[] = {"sh", "-c", cmd, NULL};
    tu_child cap;
    tu_spawn(&cap, cap_argv);
    char line[1024];
    int capturing = 0;
    while (!capturing && tu_read_line(&cap, line, sizeof line, 10000)) capturing = strstr(line, "Capturing on") != NULL;
    if (!capturing) {
        fprintf(stderr, "tshark cannot capture on lo (root or the wireshark group is needed): %s\n", line);
        exit(1);
    }

    char ps[16], want[16];
    snprintf(ps, sizeof ps, "%d", port);
    snprintf(want, sizeof want, "%d", PAYLOAD);
    char script[512];
    snprintf(script, sizeof script, "%s/wire_client.js", tu_peers_dir());
    char *argv[] = {"node", script, ps, (char *)tu_cert("ca-cert.pem"), (char *)max_version, want, NULL};
    tu_child node;
    tu_spawn(&node, argv);
    CHECK(tu_read_line(&node, line, sizeof line, 15000));
    tu_wait_child(&node, 5000);
    char v[64];
    CHECK(tu_json(line, "ok", v, sizeof v));
    if (strcmp(v, "true") != 0) fprintf(stderr, "node: %s\n", line);
    CHECK_STR(v, "true");
    tu_sleep_ms(300); /* let dumpcap write the last packets */
    kill(cap.pid, SIGINT);
    tu_wait_child(&cap, 5000);
    tu_close_server(srv);
    ntls_server_unref(srv);

    char *text = tu_read_file(keylog, NULL);
    CHECK(strncmp(text, "# lines before ours\n", 20) == 0);
    CHECK(strstr(text, strcmp(max_version, "TLSv1.3") == 0 ? "SERVER_TRAFFIC_SECRET_0 " : "CLIENT_RANDOM ") != NULL);
    free(text);

    char keylog_opt[600], filter[64];
    snprintf(keylog_opt, sizeof keylog_opt, "tls.keylog_file:%s", keylog);
    snprintf(filter, sizeof filter, "tcp.srcport==%d && tls.record.content_type==23", port);
    char *fields[] = {"tshark", "-r", pcap, "-o", keylog_opt, "-Y", filter, "-T", "fields",
                      "-e", "tls.record.content_type", "-e", "data.len", NULL};
    record_stats st = {0};
    tu_run_lines(fields, 0, count_records, &st);
    printf("%s: tshark decrypted %d application-data records from our server, %d bytes, largest %d\n",
           max_version, st.records, st.total, st.largest);
    CHECK_INT(st.total, PAYLOAD);
    CHECK(st.largest <= FRAGMENT);
    CHECK(st.records >= (PAYLOAD + FRAGMENT - 1) / FRAGMENT);
    found = 0;
    char *follow[] = {"tshark", "-r", pcap, "-o", keylog_opt, "-q", "-z", "follow,tls,ascii,0", NULL};
    tu_run_lines(follow, 0, find_payload, NULL);
    CHECK(found > 0);
}

int main(void) {
    tu_init(90);
    CHECK_INT(ntls_socket_set_max_send_fragment(NULL, 512), NTLS_EINVAL);
    char dir[] = "/tmp/nodetls-wire-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    one(dir, "TLSv1.3");
    one(dir, "TLSv1.2");
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    CHECK_INT(system(rm), 0);
    printf("on the wire ok\n");
    return 0;
}
