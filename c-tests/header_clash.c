/* Attacks the claim that including nodetls.h is harmless: every name the header defines must
 * carry the library's prefix (NTLS_ / ntls_), so a program's own names — here the kind any
 * crypto or protocol code has — survive it. This file declares them before and after the
 * include and uses them; today it does not even compile, because the header #defines NONE,
 * LOW, ..., TLS1_2, TICKET_KEYS_LEN and DEFAULT_SESSION_TIMEOUT. The build is the test (see
 * c-tests/CMakeLists.txt); the run checks that the program's values are its own. */

/* Before the include: the header must not silently redefine them for the code below. */
enum { NONE, LOW, MEDIUM, HIGH, FIPS, SSL3, TLS1, TLS1_2 };

#include "nodetls.h"

/* After the include: these must still be plain identifiers. */
static const int TICKET_KEYS_LEN = 1, DEFAULT_SESSION_TIMEOUT = 2;

struct level {
    int NONE_seen;
    int value;
};

static int sum_after(void) {
    /* A block-scope enum declared after the include, shadowing the file-scope one. */
    enum { NONE = 10, LOW, MEDIUM, HIGH, FIPS, SSL3, TLS1, TLS1_2 };
    return NONE + LOW + MEDIUM + HIGH + FIPS + SSL3 + TLS1 + TLS1_2; /* 10 + ... + 17 = 108 */
}

int main(void) {
    struct level l = {NONE, TLS1_2};
    if (l.NONE_seen != 0 || l.value != 7) return 1;
    if (NONE + LOW + MEDIUM + HIGH + FIPS + SSL3 + TLS1 + TLS1_2 != 28) return 2; /* 0 + ... + 7 */
    if (TICKET_KEYS_LEN != 1 || DEFAULT_SESSION_TIMEOUT != 2) return 3;
    if (sum_after() != 108) return 4;
    return ntls_version() == NULL ? 5 : 0;
}
