// Durations and sizes as users write them in YAML. Parsers return a result
// object instead of throwing so the caller can attach file/entry/field context.

export type UnitResult = { ok: true; value: number } | { ok: false; message: string };

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

// Go-style, as Wippy writes them: "250ms", "1.5s", "1h30m".
const DURATION_PART = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

const DURATION_HINT = 'a duration like "250ms", "5s", "2m", "1h" or a number of milliseconds';

/** Parses a duration into milliseconds. Plain numbers are milliseconds. */
export function parseDuration(input: unknown): UnitResult {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) {
      return { ok: false, message: `must be ${DURATION_HINT}, not negative (got ${input})` };
    }
    return { ok: true, value: input };
  }
  if (typeof input !== "string") {
    return { ok: false, message: `must be ${DURATION_HINT} (got ${describeValue(input)})` };
  }
  const text = input.trim();
  if (text === "") return { ok: false, message: `must be ${DURATION_HINT} (got an empty string)` };
  if (text.startsWith("-")) {
    return { ok: false, message: `must be ${DURATION_HINT}, not negative (got "${input}")` };
  }
  if (text === "0") return { ok: true, value: 0 };
  let total = 0;
  let position = 0;
  DURATION_PART.lastIndex = 0;
  while (position < text.length) {
    DURATION_PART.lastIndex = position;
    const match = DURATION_PART.exec(text);
    if (match === null) {
      return { ok: false, message: `must be ${DURATION_HINT} (got "${input}")` };
    }
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? ""] ?? Number.NaN);
    position = DURATION_PART.lastIndex;
  }
  return { ok: true, value: total };
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)$/;

const SIZE_HINT = 'a number of bytes or a size like "64KiB", "16MiB", "1GiB", "10MB"';

/** Parses a size into bytes. KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024. */
export function parseSize(input: unknown): UnitResult {
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) {
      return { ok: false, message: `must be ${SIZE_HINT}, a whole non-negative number of bytes (got ${input})` };
    }
    return { ok: true, value: input };
  }
  if (typeof input !== "string") {
    return { ok: false, message: `must be ${SIZE_HINT} (got ${describeValue(input)})` };
  }
  const match = SIZE_PATTERN.exec(input.trim());
  const unit = match?.[2] === "" ? "b" : match?.[2]?.toLowerCase();
  const factor = unit === undefined ? undefined : SIZE_UNITS[unit];
  if (match === null || factor === undefined) {
    return { ok: false, message: `must be ${SIZE_HINT} (got "${input}")` };
  }
  const bytes = Number(match[1]) * factor;
  if (!Number.isSafeInteger(bytes)) {
    return { ok: false, message: `must come to a whole number of bytes (got "${input}" = ${bytes})` };
  }
  return { ok: true, value: bytes };
}

/** Short description of a YAML value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `"${value}"`;
  return `${typeof value} ${String(value)}`;
}
