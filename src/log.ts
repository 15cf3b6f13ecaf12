// Runtime diagnostics on stderr, one line each. `WIPPY_LOG=debug` in the
// runtime's environment (RuntimeOptions.env, else the process's) shows the
// loader's cache decisions; nothing is printed otherwise. Each runtime makes
// its own logger, so the setting is read when the runtime opens, not at import.

export interface Logger {
  debug(message: string): void;
}

/** Prints nothing. */
export const SILENT: Logger = { debug() {} };

export function createLogger(env: Record<string, string | undefined>): Logger {
  if (env.WIPPY_LOG !== "debug") return SILENT;
  return { debug: (message) => void process.stderr.write(`wippy: ${message}\n`) };
}
