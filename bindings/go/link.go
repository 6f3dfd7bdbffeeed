package nodetls

// The library and header are found through CGO_LDFLAGS / CGO_CFLAGS (see README.md), so
// the package builds against an installed libnodetls or the repository's own build alike.

/*
#cgo LDFLAGS: -lnodetls
#include "nodetls.h"
*/
import "C"
