/*
 * require("time"): durations are numbers of milliseconds. time.seconds(n) and
 * time.milliseconds(n) make one, time.sleep(ms) waits (WASI poll_oneoff, which
 * suspends only this process), time.now() is the wall clock in ms since the epoch.
 */
#include <time.h>
#include "lauxlib.h"
#include "lua.h"
#include "wippy_lua.h"

static void push_ms(lua_State *L, int idx, lua_Number scale) {
  if (lua_isinteger(L, idx)) lua_pushinteger(L, lua_tointeger(L, idx) * (lua_Integer)scale);
  else lua_pushnumber(L, luaL_checknumber(L, idx) * scale);
}

static int t_seconds(lua_State *L) {
  luaL_checknumber(L, 1);
  push_ms(L, 1, 1000);
  return 1;
}

static int t_milliseconds(lua_State *L) {
  luaL_checknumber(L, 1);
  push_ms(L, 1, 1);
  return 1;
}

static int t_sleep(lua_State *L) {
  lua_Number ms = luaL_checknumber(L, 1);
  if (ms > 0) {
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (lua_Number)(time_t)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
  }
  return 0;
}

static int t_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  lua_pushinteger(L, (lua_Integer)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
  return 1;
}

static const luaL_Reg time_functions[] = {
    {"seconds", t_seconds},
    {"milliseconds", t_milliseconds},
    {"sleep", t_sleep},
    {"now", t_now},
    {NULL, NULL},
};

int luaopen_time(lua_State *L) {
  luaL_newlib(L, time_functions);
  return 1;
}
