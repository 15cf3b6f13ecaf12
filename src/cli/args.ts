// Command-line parsing: global options first, then a command and its words.

export interface CliArgs {
  src?: string;
  root?: string;
  help: boolean;
  /** --inspect [PORT]: 0 when given without a port. */
  inspect?: number;
  /** --observe [PORT]: 0 when given without a port. */
  observe?: number;
  kind?: string;
  /** --host ID: the process.host of a command run (SPEC section 6). */
  host?: string;
  execute?: string;
  words: string[];
}

export class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
  const out: CliArgs = { help: false, words: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // Once `run` has its target, every later word belongs to the guest.
    if (out.words[0] === "run" && out.words.length >= 2) {
      const rest = argv.slice(i);
      if (rest[0] === "--") rest.shift();
      out.words.push(...rest);
      break;
    }
    const take = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === "--help" || a === "-h") out.help = true;
    else if (a === "--src") out.src = take();
    else if (a.startsWith("--src=")) out.src = a.slice(6);
    else if (a === "--root") out.root = take();
    else if (a.startsWith("--root=")) out.root = a.slice(7);
    else if (a === "--host") out.host = take();
    else if (a.startsWith("--host=")) out.host = a.slice(7);
    else if (a === "--kind") out.kind = take();
    else if (a.startsWith("--kind=")) out.kind = a.slice(7);
    else if (a === "--inspect" || a === "--observe") {
      const next = argv[i + 1];
      const port = next !== undefined && /^\d+$/.test(next) ? Number(argv[++i]) : 0;
      if (port > 65535) throw new UsageError(`${a} ${port}: a port is 1–65535`);
      if (a === "--inspect") out.inspect = port;
      else out.observe = port;
    } else if (a === "-x" || a === "--execute") {
      out.execute = take();
      if (out.words.length === 0) out.words.push("run");
      out.words.push(out.execute);
    } else if (a.startsWith("-") && a !== "-") throw new UsageError(`unknown option ${a}; see wippy --help`);
    else out.words.push(a);
  }
  return out;
}

export const HELP = `wippy — WebAssembly processes as supervised actors

Usage:
  wippy run list                      list the registry's commands
  wippy run <command> [args...]       run a command's process attached to the terminal
  wippy run -x <ns:entry> [args...]   run any process.wasm or process.lua entry the same way
  wippy run                           start auto_start services; stop with Ctrl-C
  wippy lint                          validate the registry, all errors at once
  wippy registry list [--kind K]      list entries
  wippy registry show <id>            show one entry

Options:
  --src DIR        folder of the YAML definition files (default: wippy.lock's
                   directories.src, else ./src if it exists, else .)
  --root DIR       project root (default: the folder holding wippy.lock, else .)
  --host ID        the process.host a command runs on (needed when the
                   registry has more than one)
  --inspect [PORT] report every process, supervisor and host actor to the
                   Stately inspector (a page on 127.0.0.1:PORT, default 8080)
  --observe [PORT] serve the live observer page on 127.0.0.1:PORT (default 9090):
                   supervision tree, process states, restarts, memory, exits
  -h, --help       this help
`;
