// The floor under the 10 000-sleeper row: the same C sleeper (fixtures/c/sleeper.core.wasm)
// as bare core instances, with the least WASI preview1 that its _start calls and
// `poll_oneoff` as a WebAssembly.Suspending import, and no runtime at all.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO } from "../lib.ts";

const ERRNO_BADF = 8;
const ERRNO_SPIPE = 70;
const EVENTTYPE_CLOCK = 0;

class Exit {
  readonly code: number;
  constructor(code: number) {
    this.code = code;
  }
}

/** preview1 for one instance: argv is ["sleeper", ms]; output is counted and dropped. */
function preview1(argv: string[], memory: () => WebAssembly.Memory) {
  const view = () => new DataView(memory().buffer);
  const args = argv.map((a) => new TextEncoder().encode(`${a}\0`));
  return {
    args_sizes_get(count: number, size: number) {
      view().setUint32(count, args.length, true);
      view().setUint32(size, args.reduce((n, a) => n + a.length, 0), true);
      return 0;
    },
    args_get(ptrs: number, buf: number) {
      const bytes = new Uint8Array(memory().buffer);
      for (const [i, a] of args.entries()) {
        view().setUint32(ptrs + 4 * i, buf, true);
        bytes.set(a, buf);
        buf += a.length;
      }
      return 0;
    },
    fd_write(fd: number, iovs: number, count: number, written: number) {
      if (fd !== 1 && fd !== 2) return ERRNO_BADF;
      let n = 0;
      for (let i = 0; i < count; i++) n += view().getUint32(iovs + 8 * i + 4, true);
      view().setUint32(written, n, true);
      return 0;
    },
    fd_fdstat_get(fd: number, stat: number) {
      if (fd > 2) return ERRNO_BADF;
      new Uint8Array(memory().buffer, stat, 24).fill(0);
      view().setUint8(stat, 2); // a character device: stdio
      return 0;
    },
    fd_seek: () => ERRNO_SPIPE,
    fd_close: () => 0,
    proc_exit(code: number) {
      throw new Exit(code);
    },
    // one relative clock subscription (nanosleep): resolve when it is due, one event out
    poll_oneoff: new WebAssembly.Suspending((subs: number, events: number, n: number, nevents: number) => {
      const v = view();
      const ms = Number(v.getBigUint64(subs + 24, true)) / 1e6;
      const userdata = v.getBigUint64(subs, true);
      return new Promise<number>((resolve) =>
        setTimeout(() => {
          const out = view();
          out.setBigUint64(events, userdata, true);
          out.setUint16(events + 8, 0, true);
          out.setUint8(events + 10, EVENTTYPE_CLOCK);
          out.setUint32(nevents, Math.min(n, 1), true);
          resolve(0);
        }, ms),
      );
    }),
  };
}

const module = new WebAssembly.Module(readFileSync(join(REPO, "fixtures/c/sleeper.core.wasm")));

/** Runs `count` sleepers at once, each sleeping `sleepMs`; resolves when all have exited 0. */
export async function jspiSleepers(count: number, sleepMs: number, onStarted?: () => void): Promise<void> {
  const running: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    let memory: WebAssembly.Memory | undefined;
    const instance = new WebAssembly.Instance(module, {
      wasi_snapshot_preview1: preview1(["sleeper", String(sleepMs)], () => memory!) as unknown as WebAssembly.ModuleImports,
    });
    memory = instance.exports.memory as WebAssembly.Memory;
    const start = WebAssembly.promising(instance.exports._start as () => void);
    running.push(start().then(
      () => 0,
      (e: unknown) => {
        if (e instanceof Exit && e.code === 0) return 0;
        throw e;
      },
    ));
  }
  onStarted?.();
  await Promise.all(running);
}
