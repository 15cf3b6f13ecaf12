// JSON for Lua values (json.h): an encoder into a malloc'd buffer (so no Lua error
// can leak it half-built: errors come back as a message) and a decoder that pushes
// the value, integers as Lua integers where they fit.
#include "json.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lauxlib.h"

#define MAX_DEPTH 200

int json_append(json_text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = (t->len + n + 1) * 2;
    char *p = realloc(t->p, cap);
    if (!p) return 0;
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, s, n);
  t->len += n;
  t->p[t->len] = 0;
  return 1;
}

void json_free(json_text *t) {
  free(t->p);
  t->p = NULL;
  t->len = t->cap = 0;
}

static const char *put_string(json_text *t, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  if (!json_append(t, "\"", 1)) return "out of memory";
  size_t run = 0; /* bytes copied as they are, in one go */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (!json_append(t, s + run, i - run)) return "out of memory";
    char e[6] = {'\\', (char)c, 0, 0, 0, 0};
    size_t len = 2;
    if (c == '\n') e[1] = 'n';
    else if (c == '\t') e[1] = 't';
    else if (c == '\r') e[1] = 'r';
    else if (c < 0x20) { e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = hex[c >> 4]; e[5] = hex[c & 15]; len = 6; }
    if (!json_append(t, e, len)) return "out of memory";
    run = i + 1;
  }
  if (!json_append(t, s + run, n - run) || !json_append(t, "\"", 1)) return "out of memory";
  return NULL;
}

static const char *put_number(lua_State *L, int idx, json_text *t) {
  char buf[40];
  int n;
  if (lua_isinteger(L, idx)) {
    n = snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, idx));
  } else {
    double d = lua_tonumber(L, idx);
    if (!isfinite(d)) return "NaN and infinities cannot be encoded as JSON";
    n = snprintf(buf, sizeof buf, "%.15g", d);
    if (strtod(buf, NULL) != d) n = snprintf(buf, sizeof buf, "%.17g", d);
  }
  return json_append(t, buf, (size_t)n) ? NULL : "out of memory";
}

/* n > 0 when the table's keys are exactly 1..n. */
static lua_Integer array_length(lua_State *L, int idx) {
  lua_Integer count = 0, max = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) {
      lua_pop(L, 1);
      return 0;
    }
    lua_Integer k = lua_tointeger(L, -1);
    if (k > max) max = k;
    count++;
  }
  return count == max ? max : 0;
}

static const char *encode(lua_State *L, int idx, json_text *t, int depth);

static const char *encode_table(lua_State *L, int idx, json_text *t, int depth) {
  if (depth > MAX_DEPTH) return "tables nested too deeply (a table that contains itself?)";
  if (!lua_checkstack(L, 4)) return "tables nested too deeply";
  const char *err;
  lua_Integer n = array_length(L, idx);
  if (n > 0) {
    if (!json_append(t, "[", 1)) return "out of memory";
    for (lua_Integer i = 1; i <= n; i++) {
      if (i > 1 && !json_append(t, ",", 1)) return "out of memory";
      lua_rawgeti(L, idx, i);
      err = encode(L, lua_gettop(L), t, depth + 1);
      lua_pop(L, 1);
      if (err) return err;
    }
    return json_append(t, "]", 1) ? NULL : "out of memory";
  }
  if (!json_append(t, "{", 1)) return "out of memory";
  int first = 1;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    int key = lua_gettop(L) - 1;
    err = NULL;
    if (!first && !json_append(t, ",", 1)) err = "out of memory";
    first = 0;
    if (!err && lua_type(L, key) == LUA_TSTRING) {
      size_t len;
      const char *s = lua_tolstring(L, key, &len);
      err = put_string(t, s, len);
    } else if (!err && lua_type(L, key) == LUA_TNUMBER) {
      lua_pushvalue(L, key); /* tolstring on a copy: lua_next needs the key untouched */
      size_t len;
      const char *s = lua_tolstring(L, -1, &len);
      err = put_string(t, s, len);
      lua_pop(L, 1);
    } else if (!err) {
      err = "table keys must be strings or numbers to be encoded as JSON";
    }
    if (!err && !json_append(t, ":", 1)) err = "out of memory";
    if (!err) err = encode(L, lua_gettop(L), t, depth + 1);
    lua_pop(L, 1);
    if (err) {
      lua_pop(L, 1);
      return err;
    }
  }
  return json_append(t, "}", 1) ? NULL : "out of memory";
}

static const char *encode(lua_State *L, int idx, json_text *t, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TNIL:
      return json_append(t, "null", 4) ? NULL : "out of memory";
    case LUA_TBOOLEAN:
      return (lua_toboolean(L, idx) ? json_append(t, "true", 4) : json_append(t, "false", 5)) ? NULL : "out of memory";
    case LUA_TNUMBER:
      return put_number(L, idx, t);
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      return put_string(t, s, len);
    }
    case LUA_TTABLE:
      return encode_table(L, lua_absindex(L, idx), t, depth);
    default:
      return lua_typename(L, lua_type(L, idx)); /* the caller says "cannot encode a <type>" */
  }
}

const char *json_encode(lua_State *L, int idx, json_text *out) {
  return encode(L, lua_absindex(L, idx), out, 0);
}

void json_encode_or_error(lua_State *L, int idx, json_text *out, const char *what) {
  const char *err = json_encode(L, idx, out);
  if (!err) return;
  json_free(out);
  if (strchr(err, ' ') == NULL) /* a type name */ luaL_error(L, "%s: a %s cannot cross as JSON (numbers, strings, booleans, nil and tables can)", what, err);
  luaL_error(L, "%s: %s", what, err);
}

/* ---- decoding ---- */

typedef struct {
  const char *s, *end;
} cursor;

static void skip_space(cursor *c) {
  while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')) c->s++;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char ch = s[i];
    v <<= 4;
    if (ch >= '0' && ch <= '9') v |= (unsigned)(ch - '0');
    else if (ch >= 'a' && ch <= 'f') v |= (unsigned)(ch - 'a' + 10);
    else if (ch >= 'A' && ch <= 'F') v |= (unsigned)(ch - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

static const char *decode_string(lua_State *L, cursor *c) {
  luaL_Buffer b;
  c->s++; /* the opening quote */
  luaL_buffinit(L, &b);
  while (c->s < c->end && *c->s != '"') {
    if ((unsigned char)*c->s < 0x20) return "control character in a string";
    if (*c->s != '\\') {
      luaL_addchar(&b, *c->s++);
      continue;
    }
    if (++c->s >= c->end) return "unterminated string";
    char e = *c->s++;
    switch (e) {
      case '"': case '\\': case '/': luaL_addchar(&b, e); break;
      case 'b': luaL_addchar(&b, '\b'); break;
      case 'f': luaL_addchar(&b, '\f'); break;
      case 'n': luaL_addchar(&b, '\n'); break;
      case 'r': luaL_addchar(&b, '\r'); break;
      case 't': luaL_addchar(&b, '\t'); break;
      case 'u': {
        unsigned cp, lo;
        if (c->end - c->s < 4 || !hex4(c->s, &cp)) return "bad \\u escape";
        c->s += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && c->end - c->s >= 6 && c->s[0] == '\\' && c->s[1] == 'u' && hex4(c->s + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          c->s += 6;
        }
        char utf8[8];
        int n = 0;
        if (cp < 0x80) utf8[n++] = (char)cp;
        else if (cp < 0x800) { utf8[n++] = (char)(0xC0 | cp >> 6); utf8[n++] = (char)(0x80 | (cp & 0x3F)); }
        else if (cp < 0x10000) { utf8[n++] = (char)(0xE0 | cp >> 12); utf8[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); utf8[n++] = (char)(0x80 | (cp & 0x3F)); }
        else { utf8[n++] = (char)(0xF0 | cp >> 18); utf8[n++] = (char)(0x80 | ((cp >> 12) & 0x3F)); utf8[n++] = (char)(0x80 | ((cp >> 6) & 0x3F)); utf8[n++] = (char)(0x80 | (cp & 0x3F)); }
        luaL_addlstring(&b, utf8, (size_t)n);
        break;
      }
      default: return "bad escape in a string";
    }
  }
  if (c->s >= c->end) return "unterminated string";
  c->s++;
  luaL_pushresult(&b);
  return NULL;
}

static const char *decode_number(lua_State *L, cursor *c) {
  const char *start = c->s;
  int integral = 1;
  if (c->s < c->end && *c->s == '-') c->s++;
  while (c->s < c->end && ((*c->s >= '0' && *c->s <= '9') || *c->s == '.' || *c->s == 'e' || *c->s == 'E' || *c->s == '+' || *c->s == '-')) {
    if (*c->s == '.' || *c->s == 'e' || *c->s == 'E') integral = 0;
    c->s++;
  }
  char buf[64];
  size_t n = (size_t)(c->s - start);
  if (n == 0 || n >= sizeof buf) return "bad number";
  memcpy(buf, start, n);
  buf[n] = 0;
  char *end;
  if (integral) {
    long long v = strtoll(buf, &end, 10);
    if (*end == 0 && !(v == LLONG_MAX || v == LLONG_MIN)) {
      lua_pushinteger(L, (lua_Integer)v);
      return NULL;
    }
  }
  double d = strtod(buf, &end);
  if (*end != 0) return "bad number";
  lua_pushnumber(L, d);
  return NULL;
}

static const char *decode(lua_State *L, cursor *c, int depth);

static const char *decode_container(lua_State *L, cursor *c, int depth, char close) {
  if (depth > MAX_DEPTH) return "nested too deeply";
  if (!lua_checkstack(L, 4)) return "nested too deeply";
  c->s++;
  lua_newtable(L);
  lua_Integer i = 0;
  skip_space(c);
  if (c->s < c->end && *c->s == close) {
    c->s++;
    return NULL;
  }
  for (;;) {
    const char *err;
    skip_space(c);
    if (close == '}') {
      if (c->s >= c->end || *c->s != '"') return "expected a string key";
      if ((err = decode_string(L, c))) return err;
      skip_space(c);
      if (c->s >= c->end || *c->s != ':') return "expected ':'";
      c->s++;
      if ((err = decode(L, c, depth + 1))) return err;
      lua_rawset(L, -3);
    } else {
      if ((err = decode(L, c, depth + 1))) return err;
      lua_rawseti(L, -2, ++i);
    }
    skip_space(c);
    if (c->s < c->end && *c->s == ',') { c->s++; continue; }
    if (c->s < c->end && *c->s == close) { c->s++; return NULL; }
    return close == '}' ? "expected ',' or '}'" : "expected ',' or ']'";
  }
}

static const char *decode(lua_State *L, cursor *c, int depth) {
  skip_space(c);
  if (c->s >= c->end) return "unexpected end";
  const char *err = NULL;
  switch (*c->s) {
    case '{': err = decode_container(L, c, depth, '}'); break;
    case '[': err = decode_container(L, c, depth, ']'); break;
    case '"': return decode_string(L, c);
    case 't': if (c->end - c->s >= 4 && !memcmp(c->s, "true", 4)) { c->s += 4; lua_pushboolean(L, 1); return NULL; } return "bad literal";
    case 'f': if (c->end - c->s >= 5 && !memcmp(c->s, "false", 5)) { c->s += 5; lua_pushboolean(L, 0); return NULL; } return "bad literal";
    case 'n': if (c->end - c->s >= 4 && !memcmp(c->s, "null", 4)) { c->s += 4; lua_pushnil(L); return NULL; } return "bad literal";
    default: return decode_number(L, c);
  }
  return err; /* on an error json_decode drops whatever was pushed */
}

const char *json_decode(lua_State *L, const char *s, size_t len) {
  cursor c = {s, s + len};
  int top = lua_gettop(L);
  const char *err = decode(L, &c, 0);
  if (!err) {
    skip_space(&c);
    if (c.s != c.end) err = "text after the value";
  }
  if (err) lua_settop(L, top);
  return err;
}
