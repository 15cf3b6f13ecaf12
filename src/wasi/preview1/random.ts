// random_get (sync): straight from node:crypto into guest memory.

import { randomFillSync } from "node:crypto";
import type { Ctx, FnGroup } from "./context.ts";
import { Errno } from "./errno.ts";

export function randomFunctions(ctx: Ctx): FnGroup {
  return {
    sync: {
      random_get: (buf: number, len: number) => {
        const bytes = ctx.mem.bytes(buf, len);
        if (bytes.byteLength > 0) randomFillSync(bytes);
        return Errno.SUCCESS;
      },
    },
  };
}
