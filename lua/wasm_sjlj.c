/*
 * The three runtime functions LLVM's wasm setjmp/longjmp lowering calls
 * (-mllvm -wasm-enable-sjlj), as in wasi-libc's later setjmp/wasm32/rt.c: setjmp
 * records which function invocation and label it returns to, longjmp throws the
 * C_LONGJMP exception (tag 1) that the lowered setjmp sites catch and test.
 */
#include <setjmp.h>
#include <stdint.h>

struct jmp_buf_impl {
  void *func_invocation_id;
  uint32_t label;
  struct arg { void *env; int val; } arg;
};

void __wasm_setjmp(void *env, uint32_t label, void *func_invocation_id) {
  struct jmp_buf_impl *jb = env;
  if (label == 0 || func_invocation_id == 0) __builtin_trap();
  jb->func_invocation_id = func_invocation_id;
  jb->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *func_invocation_id) {
  struct jmp_buf_impl *jb = env;
  if (jb->label == 0 || func_invocation_id == 0) __builtin_trap();
  return jb->func_invocation_id == func_invocation_id ? jb->label : 0;
}

void __wasm_longjmp(void *env, int val) {
  struct jmp_buf_impl *jb = env;
  jb->arg.env = env;
  jb->arg.val = val == 0 ? 1 : val;
  __builtin_wasm_throw(1, &jb->arg); /* 1: C_LONGJMP */
}
