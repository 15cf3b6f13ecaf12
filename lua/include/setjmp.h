/*
 * setjmp.h for wasm32-wasi with -mllvm -wasm-enable-sjlj: Debian's wasi-libc ships
 * none. LLVM lowers setjmp/longjmp calls into __wasm_setjmp, __wasm_setjmp_test and
 * __wasm_longjmp (wasm_sjlj.c) over WebAssembly exception handling; the buffer only
 * has to hold what those three keep (the layout of wasi-libc's later rt.c).
 */
#ifndef WIPPY_LUA_SETJMP_H
#define WIPPY_LUA_SETJMP_H

#include <stdint.h>

typedef struct {
  void *func_invocation_id;
  uint32_t label;
  struct { void *env; int val; } arg;
} jmp_buf[1];

int setjmp(jmp_buf env) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf env, int val);

#endif
