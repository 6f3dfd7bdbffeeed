/* ticketKeys: two servers given the same 48 bytes resume each other's sessions (a session
 * saved by `openssl s_client -sess_out` from one, offered to the other with -sess_in);
 * getTicketKeys/setTicketKeys; keys of the wrong size are refused; a server with another
 * sessionIdContext does not resume them, nor does any once sessionTimeout has passed. */
#include "client_util.h"

#include <unistd.h>

static int reused(int port, const char *sess_flag, const char *path) {
    char connect[64];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    char *argv[] = {"openssl", "s_client", "-connect", connect, "-tls1_2", "-CAfile", (char *)tu_cert("ca-cert.pem"),
                    (char *)sess_flag, (char *)path, NULL};
    return tu_run_count(argv, 0, "Reused, TLSv1.2", NULL) > 0;
}

int main(void) {
    tu_init(60);
    uint8_t keys[48];
    for (int i = 0; i < 48; i++) keys[i] = (uint8_t)(i * 7 + 1);
    ntls_options *so = tu_server_options("server-ec");
    CHECK_INT(ntls_options_set_bytes(so, NTLS_OPT_TICKET_KEYS, keys, 47), 0);
    ntls_server *bad = NULL;
    CHECK_INT(ntls_server_new(NULL, so, &bad), NTLS_EINVAL);
    CHECK(strstr(ntls_options_last_error(so), "48-byte") != NULL);
    CHECK_INT(ntls_options_set_bytes(so, NTLS_OPT_TICKET_KEYS, keys, 48), 0);
    tu_echo_server a, b;
    tu_echo_start(&a, NULL, so);
    tu_echo_start(&b, NULL, so);
    uint8_t got[48];
    CHECK_INT(ntls_server_get_ticket_keys(b.srv, got, sizeof got), 0);
    CHECK(memcmp(got, keys, 48) == 0);

    char sess[256];
    snprintf(sess, sizeof sess, "%s/tickets-test-%d.sess", NODETLS_CERTS, (int)getpid());
    CHECK(!reused(a.port, "-sess_out", sess)); /* a full handshake, session saved */
    CHECK(reused(b.port, "-sess_in", sess));   /* the other server resumes it */
    printf("a session from one server resumed on the other\n");

    uint8_t other[48] = {0};
    CHECK_INT(ntls_server_set_ticket_keys(b.srv, other, 47), NTLS_EINVAL);
    CHECK_INT(ntls_server_set_ticket_keys(b.srv, other, 48), 0);
    CHECK(!reused(b.port, "-sess_in", sess)); /* new keys: the old ticket no longer opens */

    /* Same keys, another sessionIdContext: sessions stay apart (a full handshake). */
    ntls_options *co = tu_server_options("server-ec");
    CHECK_INT(ntls_options_set_bytes(co, NTLS_OPT_TICKET_KEYS, keys, 48), 0);
    CHECK_INT(ntls_options_set_string(co, NTLS_OPT_SESSION_ID_CONTEXT, "another app"), 0);
    tu_echo_server c;
    tu_echo_start(&c, NULL, co);
    CHECK(!reused(c.port, "-sess_in", sess));
    tu_echo_server c2; /* a second server of that context */
    tu_echo_start(&c2, NULL, co);
    CHECK(!reused(c2.port, "-sess_out", sess));
    CHECK(reused(c.port, "-sess_in", sess)); /* the same context resumes */
    CHECK(!reused(a.port, "-sess_in", sess)); /* and a server without it does not */
    printf("sessionIdContext keeps sessions of different contexts apart\n");
    tu_echo_stop(&c);
    tu_echo_stop(&c2);
    ntls_options_unref(co);

    /* sessionTimeout 1: a ticket two seconds old no longer resumes. */
    ntls_options *to = tu_server_options("server-ec");
    CHECK_INT(ntls_options_set_int(to, NTLS_OPT_SESSION_TIMEOUT, 1), 0);
    tu_echo_server d;
    tu_echo_start(&d, NULL, to);
    CHECK(!reused(d.port, "-sess_out", sess));
    CHECK(reused(d.port, "-sess_in", sess)); /* within the timeout */
    tu_sleep_ms(2100);
    CHECK(!reused(d.port, "-sess_in", sess));
    printf("sessionTimeout ends resumption\n");
    tu_echo_stop(&d);
    ntls_options_unref(to);
    unlink(sess);
    tu_echo_stop(&a);
    tu_echo_stop(&b);
    ntls_options_unref(so);
    return 0;
}
