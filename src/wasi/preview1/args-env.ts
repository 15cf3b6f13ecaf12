// args_* and environ_*: exactly io.argv and io.env, nothing of the host's own.

import type { Ctx, FnGroup } from "./context.ts";
import { Errno } from "./errno.ts";
import { encodeUtf8 } from "./memory.ts";

/** NUL-terminated UTF-8 strings, laid out as the guest's argv/environ expect. */
function encodeAll(strings: string[]): Uint8Array[] {
  return strings.map((s) => {
    const b = encodeUtf8(s);
    const out = new Uint8Array(b.byteLength + 1);
    out.set(b);
    return out;
  });
}

export function argsEnvFunctions(ctx: Ctx): FnGroup {
  const { mem } = ctx;
  // encoded at the first call: most guests never ask
  let argBytes: Uint8Array[] | undefined;
  let envBytes: Uint8Array[] | undefined;
  const args = () => (argBytes ??= encodeAll(ctx.io.argv));
  const env = () => (envBytes ??= encodeAll(Object.entries(ctx.io.env).map(([k, v]) => `${k}=${v}`)));

  const sizes = (list: Uint8Array[], countPtr: number, sizePtr: number): number => {
    mem.setU32(countPtr, list.length);
    mem.setU32(sizePtr, list.reduce((n, b) => n + b.byteLength, 0));
    return Errno.SUCCESS;
  };
  const get = (list: Uint8Array[], ptrs: number, buf: number): number => {
    let at = buf >>> 0;
    list.forEach((b, i) => {
      mem.setU32(ptrs + i * 4, at);
      mem.write(at, b);
      at += b.byteLength;
    });
    return Errno.SUCCESS;
  };

  return {
    sync: {
      args_sizes_get: (countPtr: number, sizePtr: number) => sizes(args(), countPtr, sizePtr),
      args_get: (ptrs: number, buf: number) => get(args(), ptrs >>> 0, buf),
      environ_sizes_get: (countPtr: number, sizePtr: number) => sizes(env(), countPtr, sizePtr),
      environ_get: (ptrs: number, buf: number) => get(env(), ptrs >>> 0, buf),
    },
  };
}
