// Guest output split into lines per pid, so each line can carry its process's tag
// even when many processes write at once. A partial line waits for its newline (or
// for flush at the end); one longer than MAX_PENDING_LINE is printed as it stands and
// continues on the next line, so a guest that never writes a newline costs bounded
// memory, and each chunk is looked at once (no re-splitting of what is pending).

/** The longest partial line kept waiting for its newline, in UTF-16 code units. */
export const MAX_PENDING_LINE = 64 * 1024;

const isHighSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;

interface Pending {
  /** The partial line, as the chunks brought it (joined only when it is printed). */
  parts: string[];
  length: number;
  /** Per pid: a character split across two chunks of one process must meet again. */
  decoder: TextDecoder;
}

export class TaggedLines {
  readonly #pending = new Map<string, Pending>();
  readonly #emit: (pid: string, line: string) => void;

  constructor(emit: (pid: string, line: string) => void) {
    this.#emit = emit;
  }

  write(pid: string, chunk: Uint8Array): void {
    let p = this.#pending.get(pid);
    if (!p) this.#pending.set(pid, (p = { parts: [], length: 0, decoder: new TextDecoder() }));
    const text = p.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      p.parts.push(text.slice(start, nl));
      this.#emitPending(pid, p);
      start = nl + 1;
    }
    let rest = text.slice(start);
    while (p.length + rest.length >= MAX_PENDING_LINE) {
      let take = MAX_PENDING_LINE - p.length;
      if (isHighSurrogate(rest.charCodeAt(take - 1))) take--; // keep a surrogate pair whole
      p.parts.push(rest.slice(0, take));
      this.#emitPending(pid, p);
      rest = rest.slice(take);
    }
    if (rest) {
      p.parts.push(rest);
      p.length += rest.length;
    }
    // the decoder may hold the start of a character only if the chunk ends in a non-ASCII byte
    if (p.length === 0 && (chunk.byteLength === 0 || chunk[chunk.byteLength - 1]! < 0x80)) this.#pending.delete(pid);
  }

  /** Prints every partial line (at the end of the run). */
  flush(): void {
    for (const [pid, p] of this.#pending) {
      p.parts.push(p.decoder.decode());
      if (p.parts.some((s) => s.length > 0)) this.#emitPending(pid, p);
    }
    this.#pending.clear();
  }

  /** Code units waiting for a newline from `pid` (for tests: it never reaches MAX_PENDING_LINE). */
  pendingLength(pid: string): number {
    return this.#pending.get(pid)?.length ?? 0;
  }

  #emitPending(pid: string, p: Pending): void {
    this.#emit(pid, p.parts.join(""));
    p.parts = [];
    p.length = 0;
  }
}
