package nodetls

// The header and library come from pkg-config's nodetls.pc, which `cmake --install`
// writes: once nodetls is installed, `go build` needs no flags. For an install prefix
// pkg-config does not search, set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig (and, to run,
// LD_LIBRARY_PATH=PREFIX/lib unless the loader already knows that directory).

/*
#cgo pkg-config: nodetls
#include "nodetls.h"
*/
import "C"
