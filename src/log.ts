// Runtime diagnostics on stderr, one line each. `WIPPY_LOG=debug` shows the
// loader's cache decisions; nothing is printed otherwise.

const level = process.env.WIPPY_LOG ?? "";

export function debug(message: string): void {
  if (level === "debug") process.stderr.write(`wippy: ${message}\n`);
}
