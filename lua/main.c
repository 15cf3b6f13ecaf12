/*
 * lua.wasm: Lua 5.4 as a WASI command that runs one process.lua entry. The runtime
 * hands the entry in as argv (src/lua/lua-entry.ts):
 *
 *   argv[1] chunk name ("@path/file.lua" or "=ns:name"), argv[2] the Lua source,
 *   argv[3] the method ("" for none), argv[4] the granted modules ("process,time"),
 *   argv[5] the spawn arguments as the JSON text of an array.
 *
 * Without a method the chunk gets the arguments (as ...) and its first return value
 * is the result; with one, the chunk runs first and the method (a field of the table
 * it returns, else a global) gets the arguments. The outcome goes out through
 * set-result as {"ok": value} or {"error": "message + traceback"}; the runtime turns
 * the second into an EXIT error of kind `error`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wippy/process.h>
#include "json.h"
#include "lauxlib.h"
#include "lua.h"
#include "lualib.h"
#include "wippy_lua.h"

static const struct { const char *name; lua_CFunction open; } MODULES[] = {
    {"process", luaopen_process},
    {"time", luaopen_time},
};
#define MODULE_COUNT (sizeof MODULES / sizeof MODULES[0])

/* lua.c's message handler: the message (or a __tostring of it) with a traceback. */
static int message_handler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) msg = lua_tostring(L, -1);
    else msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* A searcher after package.preload: our modules the entry was not granted fail by name. */
static int ungranted_searcher(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (size_t i = 0; i < MODULE_COUNT; i++) {
    if (strcmp(name, MODULES[i].name) == 0) {
      lua_pushfstring(L, "\n\tmodule '%s' is not granted to this process: add it to the entry's modules", name);
      return 1;
    }
  }
  lua_pushfstring(L, "\n\tno module '%s' (this runtime provides process and time, when the entry grants them)", name);
  return 1;
}

static void grant_modules(lua_State *L, const char *granted) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (size_t i = 0; i < MODULE_COUNT; i++) {
    size_t n = strlen(MODULES[i].name);
    for (const char *p = granted; (p = strstr(p, MODULES[i].name)) != NULL; p += n) {
      int starts = p == granted || p[-1] == ',';
      int ends = p[n] == 0 || p[n] == ',';
      if (starts && ends) {
        lua_pushcfunction(L, MODULES[i].open);
        lua_setfield(L, -2, MODULES[i].name);
        break;
      }
    }
  }
  lua_pop(L, 1);
  /* package.searchers = {preload, ungranted}: no file or C loaders, so nothing else can be required */
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchers");
  lua_rawgeti(L, -1, 1);
  lua_createtable(L, 2, 0);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 1);
  lua_pushcfunction(L, ungranted_searcher);
  lua_rawseti(L, -2, 2);
  lua_setfield(L, -3, "searchers");
  lua_pop(L, 2);
}

/* The spawn arguments, pushed; returns how many. */
static int push_args(lua_State *L, const char *json) {
  const char *err = json_decode(L, json, strlen(json));
  if (err || lua_type(L, -1) != LUA_TTABLE) {
    if (!err) lua_pop(L, 1);
    luaL_error(L, "the spawn arguments are not a JSON array: %s", err ? err : "not an array");
  }
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n, "too many spawn arguments");
  for (int i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -n - 1);
  return n;
}

/* Runs in protected mode: stack [source, chunkname, method, args]; leaves the result. */
static int run(lua_State *L) {
  size_t len;
  const char *source = lua_tolstring(L, 1, &len);
  const char *chunkname = lua_tostring(L, 2);
  const char *method = lua_tostring(L, 3);
  const char *args = lua_tostring(L, 4);
  if (luaL_loadbufferx(L, source, len, chunkname, "t") != LUA_OK) lua_error(L);
  if (method[0] == 0) {
    int n = push_args(L, args);
    lua_call(L, n, 1);
    return 1;
  }
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TTABLE || lua_getfield(L, -1, method) != LUA_TFUNCTION) {
    if (lua_getglobal(L, method) != LUA_TFUNCTION) {
      luaL_error(L, "method '%s' not found: return a table with it from the chunk, or define it as a global function", method);
    }
  }
  int n = push_args(L, args);
  lua_call(L, n, 1);
  return 1;
}

static void set_result(const char *json, size_t len) {
  if (wippy_set_result(WIPPY_JSON, json, (uint32_t)len) < 0) {
    fprintf(stderr, "lua: could not hand the result out\n");
    exit(70);
  }
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "lua.wasm runs process.lua entries for the wippy runtime; it takes 5 arguments, got %d\n", argc - 1);
    return 2;
  }
  /* line by line, as on a terminal: a long-running process's print shows when it prints */
  setvbuf(stdout, NULL, _IOLBF, 0);
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "lua: not enough memory for the interpreter\n");
    return 70;
  }
  luaL_openlibs(L);
  grant_modules(L, argv[4]);
  lua_pushcfunction(L, message_handler);
  lua_pushcfunction(L, run);
  lua_pushstring(L, argv[2]); /* source */
  lua_pushstring(L, argv[1]); /* chunk name */
  lua_pushstring(L, argv[3]); /* method */
  lua_pushstring(L, argv[5]); /* arguments */
  json_text out = {0};
  if (lua_pcall(L, 4, 1, 1) == LUA_OK) {
    json_append(&out, "{\"ok\":", 6);
    const char *err = json_encode(L, -1, &out);
    if (!err) {
      json_append(&out, "}", 1);
      set_result(out.p, out.len);
      json_free(&out);
      lua_close(L);
      return 0;
    }
    json_free(&out);
    if (strchr(err, ' ') == NULL) lua_pushfstring(L, "the result cannot cross as JSON: a %s (numbers, strings, booleans, nil and tables can)", err);
    else lua_pushfstring(L, "the result cannot cross as JSON: %s", err);
  }
  /* the error message (with its traceback) is at the top */
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  json_append(&out, "{\"error\":", 9);
  lua_pushlstring(L, msg ? msg : "(no message)", msg ? len : 12);
  json_encode(L, -1, &out);
  json_append(&out, "}", 1);
  set_result(out.p, out.len);
  json_free(&out);
  lua_close(L);
  return 0;
}
