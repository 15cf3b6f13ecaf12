/*
 * Forced into every Lua source (-include): what WASI preview1 has no way to do.
 * os.tmpname and io.tmpfile fail with an error (no temporary folder is granted;
 * files come only through wasi.mounts), os.execute has no shell (os.execute()
 * answers false, as Lua does without one).
 */
#ifndef WIPPY_LUA_WASI_COMPAT_H
#define WIPPY_LUA_WASI_COMPAT_H

#include <stdio.h>

#define lua_tmpnam(b, e) { (void)(b); e = 1; }
#define LUA_TMPNAMBUFSIZE 32
#define tmpfile wippy_lua_tmpfile
#define system wippy_lua_system

FILE *wippy_lua_tmpfile(void);
int wippy_lua_system(const char *command);

#endif
