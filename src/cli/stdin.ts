// The terminal's stdin, read only when a guest asks for it (a guest that never
// reads must not keep the CLI alive), and not even opened before that: Node makes
// process.stdin on first access, a stream over the pipe or terminal, which a command
// that reads nothing should not pay for at start.

import type { Readable } from "node:stream";

export class TerminalStdin {
  readonly #open: () => Readable;
  #opened: Readable | undefined;
  #ended = false;
  #started = false;

  constructor(open: () => Readable) {
    this.#open = open;
  }

  get #stream(): Readable {
    return (this.#opened ??= this.#open());
  }

  read(): Promise<Uint8Array | null> {
    if (this.#ended) return Promise.resolve(null);
    if (!this.#started) {
      this.#started = true;
      this.#stream.once("end", () => (this.#ended = true));
    }
    return new Promise((resolve) => {
      const attempt = () => {
        const chunk = this.#stream.read() as Buffer | null;
        if (chunk !== null) return finish(new Uint8Array(chunk));
        if (this.#ended || this.#stream.readableEnded) return finish(null);
        return undefined;
      };
      const finish = (v: Uint8Array | null) => {
        this.#stream.off("readable", attempt);
        this.#stream.off("end", onEnd);
        resolve(v);
      };
      const onEnd = () => finish(null);
      this.#stream.on("readable", attempt);
      this.#stream.once("end", onEnd);
      attempt();
    });
  }

  close(): void {
    if (this.#started) this.#stream.destroy();
  }
}
