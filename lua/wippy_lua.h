/* The Lua modules of this build, opened by require when the entry grants them. */
#ifndef WIPPY_LUA_H
#define WIPPY_LUA_H

#include "lua.h"

int luaopen_process(lua_State *L);
int luaopen_time(lua_State *L);

#endif
