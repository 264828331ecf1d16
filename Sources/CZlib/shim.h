#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H
/* zlib (gzip data files) behind one function: inflateInit2 is a macro Swift cannot call.
   zlib never prints; failures come back as its status and z_stream.msg. */
#include <zlib.h>

/* Inflate with automatic zlib/gzip header detection (windowBits 15 + 32). */
static inline int czlib_inflate_init(z_stream *s) { return inflateInit2(s, 15 + 32); }
#endif
