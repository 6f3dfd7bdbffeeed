/* The header compiles alone as C99 with -Wall -Wextra -Werror -pedantic. */
#include "nodetls.h"
int main(void) { return ntls_version() == NULL; }
