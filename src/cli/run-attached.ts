// `wippy run <command>`: one process attached to the terminal; its exit status
// becomes ours.

import { isExitError } from "../process/exit.ts";
import { streamOutput } from "../process/io.ts";
import type { Registry, WasmEntry } from "../registry/index.ts";
import { Runtime } from "../runtime.ts";
import { CliError } from "./main.ts";
import { TerminalStdin } from "./stdin.ts";
import { isWasiCommand } from "../wasm/program.ts";
import type { CliArgs } from "./args.ts";
import { slowLoadNotice, startWatchers } from "./watch.ts";

function hostIds(registry: Registry, kind: "process.host" | "terminal.host"): string[] {
  return [...registry.entries.values()].filter((e) => e.kind === kind).map((e) => e.id).sort();
}

export async function runAttached(registry: Registry, entry: WasmEntry, args: string[], watch: Pick<CliArgs, "inspect" | "observe"> = {}): Promise<number> {
  if (hostIds(registry, "terminal.host").length === 0) {
    throw new CliError("running a command needs a terminal.host entry in the registry; add one (kind: terminal.host)");
  }
  const host = hostIds(registry, "process.host")[0];
  if (!host) throw new CliError("running a command needs a process.host entry in the registry; add one (kind: process.host)");
  const watchers = await startWatchers(watch, (line) => process.stderr.write(`wippy: ${line}\n`));
  const stdin = new TerminalStdin(process.stdin);
  const runtime = await Runtime.open({
    registry,
    ...watchers.runtimeOptions,
    onSlowLoad: slowLoadNotice,
    stdio: {
      stdout: streamOutput(process.stdout),
      stderr: streamOutput(process.stderr),
      stdin: () => stdin.read(),
    },
  });
  await watchers.attach(runtime);
  try {
    const result = await runtime.process.exec(entry.id, host, ...args);
    if (isExitError(result)) {
      const { error } = result;
      if (error.kind === "exit" && error.code !== undefined) return error.code;
      process.stderr.write(`wippy: ${entry.id} failed (${error.kind}): ${error.message}\n`);
      return 1;
    }
    const { value } = result;
    if (!isWasiCommand(entry.method) && value !== undefined && value !== null) {
      process.stdout.write(`${typeof value === "string" ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
    }
    return 0;
  } finally {
    stdin.close();
    await runtime.close(0);
    await watchers.stop();
  }
}
