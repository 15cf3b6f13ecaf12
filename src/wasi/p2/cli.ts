// wasi:cli — environment, exit, stdio and (no) terminals, from the process's ProcessIO.

import { ProcessError } from "../../process/exit.ts";
import type { HostContext } from "./context.ts";
import { OutputQueue } from "../output-queue.ts";
import { InputStream, OutputStream, Reader, type ByteSource } from "./io.ts";

class TerminalInput {}
class TerminalOutput {}

/** Thrown by wasi:cli/exit; exit status 0 is a normal end (see src/wasm/component.ts). */
export const exitError = (code: number) => new ProcessError("exit", `exited with status ${code}`, { code });

function stdinSource(ctx: HostContext): ByteSource {
  const read = ctx.io.stdin;
  return { pull: () => (read ? read() : Promise.resolve(null)) };
}

export function cliImports(ctx: HostContext): Record<string, Record<string, unknown>> {
  const { io } = ctx;
  // One buffer for the process's stdin, whichever handle the guest reads it through.
  const stdin = new Reader(stdinSource(ctx));
  // One queue per output as well: the Stdio callback sees its chunks one at a time, in order.
  const stdout = new OutputQueue(io.stdout);
  const stderr = new OutputQueue(io.stderr);
  return {
    "wasi:cli/environment": {
      getEnvironment: () => Object.entries(io.env),
      getArguments: () => [...io.argv],
      initialCwd: () => io.cwd,
    },
    "wasi:cli/exit": {
      exit(status: { tag: "ok" | "err" }) {
        throw exitError(status.tag === "ok" ? 0 : 1);
      },
      exitWithCode(code: number) {
        throw exitError(code);
      },
    },
    // A fresh resource per call: jco would reuse one object's handle, and the guest may drop each.
    "wasi:cli/stdin": { getStdin: () => new InputStream(ctx, stdin, false) },
    "wasi:cli/stdout": { getStdout: () => new OutputStream(ctx, stdout) },
    "wasi:cli/stderr": { getStderr: () => new OutputStream(ctx, stderr) },
    "wasi:cli/terminal-input": { TerminalInput },
    "wasi:cli/terminal-output": { TerminalOutput },
    "wasi:cli/terminal-stdin": { getTerminalStdin: () => undefined },
    "wasi:cli/terminal-stdout": { getTerminalStdout: () => undefined },
    "wasi:cli/terminal-stderr": { getTerminalStderr: () => undefined },
  };
}
