// Guest output split into lines per pid, so each line can carry its process's tag
// even when many processes write at once. A partial line waits for its newline (or
// for flush at the end).

export class TaggedLines {
  readonly #pending = new Map<string, string>();
  readonly #emit: (pid: string, line: string) => void;
  readonly #decoder = new TextDecoder();

  constructor(emit: (pid: string, line: string) => void) {
    this.#emit = emit;
  }

  write(pid: string, chunk: Uint8Array): void {
    const text = (this.#pending.get(pid) ?? "") + this.#decoder.decode(chunk, { stream: false });
    const lines = text.split("\n");
    const rest = lines.pop()!;
    for (const line of lines) this.#emit(pid, line);
    if (rest) this.#pending.set(pid, rest);
    else this.#pending.delete(pid);
  }

  flush(): void {
    for (const [pid, rest] of this.#pending) this.#emit(pid, rest);
    this.#pending.clear();
  }
}
