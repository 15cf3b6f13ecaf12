// `wippy run <command>`: one process attached to the terminal; its exit status
// becomes ours.

import { isExitError } from "../process/exit.ts";
import { streamOutput } from "../process/io.ts";
import type { LuaEntry, Registry, WasmEntry } from "../registry/index.ts";
import { actorsOnDemand, Runtime } from "../runtime.ts";
import { CliError } from "./main.ts";
import { TerminalStdin } from "./stdin.ts";
import { isWasiCommand } from "../wasm/program.ts";
import type { CliArgs } from "./args.ts";
import type { ClusterOptions } from "../cluster/options.ts";
import { prepareNotice } from "./prepare-line.ts";
import { startWatchers } from "./watch.ts";

function hostIds(registry: Registry, kind: "process.host" | "terminal.host"): string[] {
  return [...registry.entries.values()].filter((e) => e.kind === kind).map((e) => e.id).sort();
}

/**
 * The process host of a CLI run (SPEC section 6): `--host`, else the registry's only
 * process.host, else an error listing them. Never picked silently: adding a host must
 * not move where every command runs.
 */
export function chooseProcessHost(registry: Registry, requested: string | undefined): string {
  const hosts = hostIds(registry, "process.host");
  if (requested !== undefined) {
    const e = registry.entries.get(requested);
    if (e?.kind === "process.host") return requested;
    const what = e ? `${requested} is a ${e.kind}, not a process.host` : `no process.host ${requested} in the registry`;
    throw new CliError(`--host ${requested}: ${what}; ${hosts.length > 0 ? `process hosts: ${hosts.join(", ")}` : "the registry declares none (kind: process.host)"}`);
  }
  if (hosts.length === 1) return hosts[0]!;
  if (hosts.length === 0) throw new CliError("running a command needs a process.host entry in the registry; add one (kind: process.host)");
  throw new CliError(`the registry has ${hosts.length} process hosts (${hosts.join(", ")}); choose one with --host <id>`);
}

export async function runAttached(registry: Registry, entry: WasmEntry | LuaEntry, args: string[], opts: Pick<CliArgs, "inspect" | "observe" | "host"> & { cluster?: ClusterOptions } = {}): Promise<number> {
  if (hostIds(registry, "terminal.host").length === 0) {
    throw new CliError("running a command needs a terminal.host entry in the registry; add one (kind: terminal.host)");
  }
  const host = chooseProcessHost(registry, opts.host);
  const watchers = await startWatchers(opts, (line) => process.stderr.write(`wippy: ${line}\n`));
  const stdin = new TerminalStdin(() => process.stdin);
  // XState loads only if the registry has actors or someone watches: a plain command starts without it
  const runtime = await Runtime.open(actorsOnDemand({
    registry,
    // a command runs its one process; the auto_start tree is `wippy run` without a name (SPEC 6)
    autoStart: false,
    ...(opts.cluster ? { cluster: opts.cluster } : {}),
    ...watchers.runtimeOptions,
    onPrepare: prepareNotice,
    stdio: {
      stdout: streamOutput(process.stdout),
      // on first use: a command that writes no error makes no stderr stream
      stderr: (pid, chunk) => streamOutput(process.stderr)(pid, chunk),
      stdin: () => stdin.read(),
    },
  }));
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
    // a WASI command prints its own output; its status 0 is not a value (a set-result is)
    const commandStatus = entry.kind === "process.wasm" && isWasiCommand(entry.method) && value === 0;
    if (!commandStatus && value !== undefined && value !== null) {
      if (value instanceof Uint8Array) process.stdout.write(value); // set-result bytes, as they are
      process.stdout.write(value instanceof Uint8Array ? "\n" : `${typeof value === "string" ? value : JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))}\n`);
    }
    return 0;
  } finally {
    stdin.close();
    await runtime.close(0);
    await watchers.stop();
  }
}
