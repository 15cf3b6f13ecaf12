/*
 * require("process"): the guest process API (include/wippy/process.h) for Lua, in
 * Wippy's style: calls return a value, or nil and an error message. Values cross as
 * JSON (json.h). Events are tables: MESSAGE {type, from, topic, format, payload},
 * EXIT {type, from, value | error}, LINK_DOWN {type, from, error}, CANCEL {type,
 * from, reason}; an error is {kind, message} and prints as "kind: message".
 * receive(timeout_ms) waits (nil: for ever, 0: poll) and suspends only this process.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wippy/process.h>
#include "json.h"
#include "lauxlib.h"
#include "lua.h"
#include "wippy_lua.h"

static int refused(lua_State *L, int32_t code) {
  char msg[512];
  int32_t n = wippy_last_error(msg, sizeof msg);
  lua_pushnil(L);
  if (n > 0) lua_pushlstring(L, msg, (size_t)(n < (int32_t)sizeof msg ? n : (int32_t)sizeof msg));
  else lua_pushfstring(L, "refused (code %d)", (int)code);
  return 2;
}

static int done(lua_State *L, int32_t rc) {
  if (rc < 0) return refused(L, rc);
  lua_pushboolean(L, 1);
  return 1;
}

static int p_self(lua_State *L) {
  char pid[WIPPY_PID_MAX];
  int32_t n = wippy_self(pid, sizeof pid);
  lua_pushlstring(L, pid, (size_t)(n < WIPPY_PID_MAX ? n : WIPPY_PID_MAX));
  return 1;
}

/* process.spawn*(entry, host, ...): the new pid, or nil and why. */
typedef int32_t (*spawn_fn)(const char *, uint32_t, const char *, uint32_t, const char *, uint32_t, char *, uint32_t);

static int spawn_with(lua_State *L, spawn_fn fn) {
  size_t entry_len, host_len = 0;
  const char *entry = luaL_checklstring(L, 1, &entry_len);
  const char *host = luaL_optlstring(L, 2, "", &host_len);
  json_text args = {0};
  int top = lua_gettop(L);
  char what[32];
  json_append(&args, "[", 1);
  for (int i = 3; i <= top; i++) {
    if (i > 3) json_append(&args, ",", 1);
    snprintf(what, sizeof what, "spawn argument %d", i - 2);
    json_encode_or_error(L, i, &args, what);
  }
  json_append(&args, "]", 1);
  char pid[WIPPY_PID_MAX];
  int32_t n = fn(entry, (uint32_t)entry_len, host, (uint32_t)host_len, args.p, (uint32_t)args.len, pid, sizeof pid);
  json_free(&args);
  if (n < 0) return refused(L, n);
  lua_pushlstring(L, pid, (size_t)(n < WIPPY_PID_MAX ? n : WIPPY_PID_MAX));
  return 1;
}

static int p_spawn(lua_State *L) { return spawn_with(L, wippy_spawn); }
static int p_spawn_monitored(lua_State *L) { return spawn_with(L, wippy_spawn_monitored); }
static int p_spawn_linked(lua_State *L) { return spawn_with(L, wippy_spawn_linked); }
static int p_spawn_linked_monitored(lua_State *L) { return spawn_with(L, wippy_spawn_linked_monitored); }

/* process.send(pid, topic, value [, format]): true (delivered), false (the process is gone),
   or nil and why. format "json" (default): any value JSON carries; "bytes": a string, as it is. */
static int p_send(lua_State *L) {
  static const char *const formats[] = {"json", "bytes", NULL};
  size_t to_len, topic_len;
  const char *to = luaL_checklstring(L, 1, &to_len);
  const char *topic = luaL_checklstring(L, 2, &topic_len);
  int bytes = luaL_checkoption(L, 4, "json", formats) == 1;
  int32_t rc;
  if (bytes) {
    size_t len;
    const char *payload = luaL_checklstring(L, 3, &len);
    rc = wippy_send(to, (uint32_t)to_len, topic, (uint32_t)topic_len, WIPPY_BYTES, payload, (uint32_t)len);
  } else {
    json_text payload = {0};
    lua_settop(L, 3);
    json_encode_or_error(L, 3, &payload, "send");
    rc = wippy_send(to, (uint32_t)to_len, topic, (uint32_t)topic_len, WIPPY_JSON, payload.p, (uint32_t)payload.len);
    json_free(&payload);
  }
  if (rc < 0) return refused(L, rc);
  lua_pushboolean(L, rc == 1);
  return 1;
}

#define PID_CALL(name, call)                        \
  static int name(lua_State *L) {                   \
    size_t len;                                     \
    const char *pid = luaL_checklstring(L, 1, &len); \
    return done(L, call(pid, (uint32_t)len));       \
  }
PID_CALL(p_monitor, wippy_monitor)
PID_CALL(p_unmonitor, wippy_unmonitor)
PID_CALL(p_link, wippy_link)
PID_CALL(p_unlink, wippy_unlink)
PID_CALL(p_terminate, wippy_terminate)

static int p_cancel(lua_State *L) {
  size_t len, reason_len;
  const char *pid = luaL_checklstring(L, 1, &len);
  const char *reason = luaL_optlstring(L, 2, "cancelled", &reason_len);
  return done(L, wippy_cancel(pid, (uint32_t)len, reason, (uint32_t)reason_len));
}

/* process.set_options({trap_links = true}) */
static int p_set_options(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (lua_getfield(L, 1, "trap_links") != LUA_TNIL) wippy_set_trap_links(lua_toboolean(L, -1));
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  return 1;
}

/* The current event's payload (valid until the next receive). */
static const char *event_payload(uint32_t *len) {
  static char *buf;
  static uint32_t cap;
  if (!buf && !(buf = malloc(cap = 4096))) abort();
  uint32_t n = (uint32_t)wippy_event_payload(buf, cap);
  if (n > cap) { /* cut short: grow and read again */
    free(buf);
    if (!(buf = malloc(cap = n))) abort();
    n = (uint32_t)wippy_event_payload(buf, cap);
  }
  *len = n;
  return buf;
}

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "kind");
  lua_getfield(L, 1, "message");
  lua_pushfstring(L, "%s: %s", luaL_optstring(L, -2, "error"), luaL_optstring(L, -1, ""));
  return 1;
}

/* Pushes the JSON payload as a value; text that does not parse stays a string. */
static void push_json(lua_State *L, const char *s, uint32_t len) {
  if (json_decode(L, s, len) != NULL) lua_pushlstring(L, s, len);
}

static void push_error(lua_State *L, const char *s, uint32_t len) {
  push_json(L, s, len);
  if (lua_type(L, -1) == LUA_TTABLE) {
    luaL_newmetatable(L, "wippy.error");
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_setmetatable(L, -2);
  }
}

static int p_receive(lua_State *L) {
  int32_t timeout = WIPPY_FOREVER;
  if (!lua_isnoneornil(L, 1)) {
    lua_Number ms = luaL_checknumber(L, 1);
    timeout = ms <= 0 ? 0 : ms >= 2147483647.0 ? WIPPY_FOREVER : (int32_t)ms;
  }
  int32_t kind = wippy_receive(timeout);
  if (kind == WIPPY_TIMEOUT) {
    lua_pushnil(L);
    lua_pushliteral(L, "timeout");
    return 2;
  }
  static const char *const names[] = {"TIMEOUT", "MESSAGE", "EXIT", "LINK_DOWN", "CANCEL"};
  char from[WIPPY_PID_MAX];
  int32_t from_len = wippy_event_from(from, sizeof from);
  uint32_t len;
  const char *payload = event_payload(&len);
  lua_createtable(L, 0, 5);
  lua_pushstring(L, kind >= 0 && kind <= 4 ? names[kind] : "UNKNOWN");
  lua_setfield(L, -2, "type");
  lua_pushlstring(L, from, (size_t)(from_len < WIPPY_PID_MAX ? from_len : WIPPY_PID_MAX));
  lua_setfield(L, -2, "from");
  if (kind == WIPPY_MESSAGE) {
    char topic[256];
    int32_t n = wippy_event_topic(topic, sizeof topic);
    lua_pushlstring(L, topic, (size_t)(n < (int32_t)sizeof topic ? n : (int32_t)sizeof topic));
    lua_setfield(L, -2, "topic");
    int json = wippy_event_format() == WIPPY_JSON;
    lua_pushstring(L, json ? "json" : "bytes");
    lua_setfield(L, -2, "format");
    if (json) push_json(L, payload, len);
    else lua_pushlstring(L, payload, len);
    lua_setfield(L, -2, "payload");
  } else if (kind == WIPPY_CANCEL) {
    lua_pushlstring(L, payload, len);
    lua_setfield(L, -2, "reason");
  } else if (wippy_event_is_error()) {
    push_error(L, payload, len);
    lua_setfield(L, -2, "error");
  } else {
    push_json(L, payload, len);
    lua_setfield(L, -2, "value");
  }
  return 1;
}

static const luaL_Reg process_functions[] = {
    {"self", p_self},
    {"send", p_send},
    {"receive", p_receive},
    {"spawn", p_spawn},
    {"spawn_monitored", p_spawn_monitored},
    {"spawn_linked", p_spawn_linked},
    {"spawn_linked_monitored", p_spawn_linked_monitored},
    {"monitor", p_monitor},
    {"unmonitor", p_unmonitor},
    {"link", p_link},
    {"unlink", p_unlink},
    {"cancel", p_cancel},
    {"terminate", p_terminate},
    {"set_options", p_set_options},
    {NULL, NULL},
};

int luaopen_process(lua_State *L) {
  luaL_newlib(L, process_functions);
  return 1;
}
