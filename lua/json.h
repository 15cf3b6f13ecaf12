/*
 * Lua values as JSON text (SPEC section 7, format `json`): nil, booleans, numbers,
 * strings and tables. A table whose keys are exactly 1..n is an array, any other an
 * object (number keys become their decimal text); an empty table is {}. Functions,
 * userdata, threads, NaN and infinities cannot cross.
 */
#ifndef WIPPY_LUA_JSON_H
#define WIPPY_LUA_JSON_H

#include <stddef.h>
#include "lua.h"

typedef struct {
  char *p;
  size_t len, cap;
} json_text;

/* Appends the value at `idx` to `out`; returns NULL, or why it cannot cross (out is then partial). */
const char *json_encode(lua_State *L, int idx, json_text *out);
/* Encodes the value at `idx`, or raises a Lua error naming `what`; the caller frees out->p. */
void json_encode_or_error(lua_State *L, int idx, json_text *out, const char *what);
/* Pushes the value of the JSON text s[0..len); returns NULL, or why it does not parse (nothing pushed). */
const char *json_decode(lua_State *L, const char *s, size_t len);
void json_free(json_text *t);
/* Appends raw text; 0 when out of memory. */
int json_append(json_text *t, const char *s, size_t n);

#endif
