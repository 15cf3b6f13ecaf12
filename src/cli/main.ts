// The `wippy` CLI (SPEC section 6). Every failure is one line on stderr saying
// what failed and how to fix it; the exit status is the guest's.

// the registry's own modules, not its index: that would bring the YAML parser along, which
// a warm run (the validated registry from the cache) does without
import { formatIssue, RegistryError } from "../registry/errors.ts";
import { loadRegistry } from "../registry/load.ts";
import type { LuaEntry, Registry, WasmEntry } from "../registry/types.ts";
import { registryCache } from "./build-id.ts";
import { noEffectWarnings } from "../registry/no-effect.ts";
import { preemptLimitWarnings } from "../registry/preempt-limits.ts";
import { Runtime, runtimeInternals } from "../runtime.ts";
import { actorsWithoutLogic } from "../process/actor-module.ts";
import { HELP, parseArgs, UsageError, type CliArgs } from "./args.ts";
import { registryList, registryShow, runList } from "./listing.ts";
import { runAttached } from "./run-attached.ts";
import { formatSupervisionEvent } from "../supervision/format.ts";
import { prepareNotice } from "./prepare-line.ts";
import { startWatchers } from "./watch.ts";
import { TaggedLines } from "./tagged-lines.ts";
import { roomIn, streamOutput } from "../process/io.ts";
import type { ClusterOptions } from "../cluster/options.ts";
import { clusterOptions, joinedLine, watchNodes } from "./cluster.ts";

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return fail(err.message);
    throw err;
  }
  if (args.help || args.words.length === 0) {
    process.stdout.write(HELP);
    return args.help ? 0 : 2;
  }
  const [command, sub, ...rest] = args.words;
  try {
    if (command === "lint") return await lint(args);
    if (command === "registry") {
      const registry = await load(args);
      if (sub === "list") return print(registryList(registry, args.kind));
      if (sub === "show" && rest[0]) return print(await registryShow(registry, rest[0]));
      return fail("usage: wippy registry list [--kind K] | wippy registry show <id>");
    }
    if (command === "run") {
      if (sub === "list") return print(runList(await load(args)));
      const registry = await loadRunnable(args);
      const cluster = args.cluster ? clusterOptions(args.cluster, registry) : undefined;
      if (sub === undefined) {
        if (args.host !== undefined) return fail("--host chooses where a command runs (wippy run <name> or -x <ns:entry>); services name their own host");
        return await runForever(registry, args, cluster);
      }
      const entry = args.execute !== undefined ? findEntry(registry, sub) : findCommand(registry, sub);
      return await runAttached(registry, entry, rest, { ...args, ...(cluster ? { cluster } : {}) });
    }
    return fail(`unknown command ${command}; see wippy --help`);
  } catch (err) {
    if (err instanceof RegistryError) {
      process.stderr.write(`${err.message}\n`);
      return 1;
    }
    if (err instanceof CliError) return fail(err.message);
    return fail(err instanceof Error ? err.message : String(err));
  }
}

export class CliError extends Error {}

function fail(message: string): number {
  process.stderr.write(`wippy: ${message}\n`);
  return 1;
}

function print(text: string): number {
  process.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
  return 0;
}

function load(args: CliArgs): Promise<Registry> {
  const cache = registryCache();
  return loadRegistry({ ...(args.root ? { root: args.root } : {}), ...(args.src ? { src: args.src } : {}), ...(cache ? { cache } : {}) });
}

/** The registry as the CLI runs it: a process.actor needs a module, since the CLI cannot pass logic in code. */
async function loadRunnable(args: CliArgs): Promise<Registry> {
  const registry = await load(args);
  const issues = actorsWithoutLogic(registry, new Set(), "cli");
  if (issues.length > 0) throw new RegistryError(issues, registry.root);
  return registry;
}

async function lint(args: CliArgs): Promise<number> {
  const registry = await loadRunnable(args);
  // warnings say what will not work as written; only errors fail lint
  for (const warning of [...preemptLimitWarnings(registry), ...noEffectWarnings(registry)]) process.stderr.write(`warning: ${formatIssue(warning, registry.root)}\n`);
  return print(`ok: ${registry.entries.size} entries in ${registry.files.length} file${registry.files.length === 1 ? "" : "s"}`);
}

function findCommand(registry: Registry, name: string): WasmEntry | LuaEntry {
  for (const e of registry.entries.values()) {
    if ((e.kind === "process.wasm" || e.kind === "process.lua") && e.command?.name === name) return e;
  }
  const names = [...registry.entries.values()].flatMap((e) => ((e.kind === "process.wasm" || e.kind === "process.lua") && e.command ? [e.command.name] : []));
  throw new CliError(`no command ${name}; ${names.length > 0 ? `commands: ${names.join(", ")}` : "the registry declares no commands (meta.command)"}`);
}

function findEntry(registry: Registry, id: string): WasmEntry | LuaEntry {
  const e = registry.entries.get(id);
  if (!e) throw new CliError(`no entry ${id} in the registry; see wippy registry list --kind process.wasm (or process.lua)`);
  if (e.kind !== "process.wasm" && e.kind !== "process.lua") throw new CliError(`${id} is a ${e.kind}, not a process.wasm or process.lua entry`);
  return e;
}

/**
 * `wippy run` without a command: the runtime with its auto_start tree until SIGINT or
 * SIGTERM. One log line per start, restart, exit and stop, and every line a guest writes
 * to stderr, each tagged with pid and entry (terminal.host hide_logs: true keeps the
 * lifecycle lines out; guest output always shows).
 */
async function runForever(registry: Registry, args: CliArgs, cluster: ClusterOptions | undefined): Promise<number> {
  const log = (line: string) => void process.stderr.write(`wippy: ${line}\n`);
  const hideLogs = [...registry.entries.values()].some((e) => e.kind === "terminal.host" && e.hideLogs);
  const watchers = await startWatchers(args, log);
  let runtime: Runtime | undefined;
  const tag = (pid: string) => {
    const entry = (runtime ? runtimeInternals(runtime).table.get(pid)?.entry : undefined);
    return entry ? `${pid} ${entry}` : pid;
  };
  const stderr = new TaggedLines((pid, line) => process.stderr.write(`[${tag(pid)}] ${line}\n`));
  runtime = await Runtime.open({
    registry,
    ...(cluster ? { cluster } : {}),
    ...watchers.runtimeOptions,
    onPrepare: prepareNotice,
    stdio: {
      stdout: streamOutput(process.stdout),
      stderr: (pid, chunk) => {
        stderr.write(pid, chunk);
        return roomIn(process.stderr);
      },
    },
    onSupervisorEvent: (e) => {
      const line = hideLogs ? null : formatSupervisionEvent(e);
      if (line) log(line);
    },
  });
  await watchers.attach(runtime);
  let unwatch = () => {};
  if (args.cluster) {
    log(joinedLine(args.cluster));
    unwatch = watchNodes(runtime, log);
  }
  const trees = runtimeInternals(runtime).supervision.running().map((s) => s.id);
  log(trees.length > 0 ? `running ${trees.join(", ")}; Ctrl-C to stop` : "nothing is marked auto_start; running until Ctrl-C");
  // nothing else may be keeping Node alive (no tree, no server): this does until a signal
  const keepAlive = setInterval(() => {}, 1 << 30);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  clearInterval(keepAlive);
  unwatch();
  log(`${signal}: stopping the supervision tree${args.cluster ? ` and leaving the cluster` : ""}`);
  await runtime.close();
  stderr.flush();
  await watchers.stop();
  log("stopped");
  return 0;
}
