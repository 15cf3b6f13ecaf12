// What the CLI says while a binary is prepared for its first run (transpiled or
// instrumented, then compiled). Warm runs (cache hits) never get here. Nothing is said
// for a preparation under PREPARE_NOTICE_MS. Past it: on a terminal, one line that
// updates in place with the phase and the share done, replaced at the end by how long it
// took; elsewhere (a pipe, a log) one plain line, so logs stay readable.

import type { PrepareProgress } from "../wasm/prepare-progress.ts";

/** A preparation shorter than this goes unmentioned. */
export const PREPARE_NOTICE_MS = 1000;
/** The terminal line is redrawn at most this often. */
const REDRAW_MS = 100;

export interface NoticeStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export function prepareNotice(entryId: string, path: string, done: Promise<void>, progress?: PrepareProgress, out: NoticeStream = process.stderr): void {
  const what = `wippy: preparing ${entryId} (${path}) for its first run`;
  const started = performance.now();
  let shown = false;
  let drawn = 0;
  let stop = () => {};
  const draw = () => {
    if (!progress) return;
    const share = progress.share === undefined ? "" : ` ${Math.floor(progress.share * 100)}%`;
    out.write(`\r\x1b[K${what}: ${progress.phase}${share}`);
    drawn = performance.now();
  };
  const timer = setTimeout(() => {
    shown = true;
    if (!out.isTTY || !progress) {
      out.write(`${what}: transpiling and instrumenting; cached by hash after this\n`);
      return;
    }
    draw();
    // the byte instrumenter reports while it holds the thread: the line is drawn from its callback, not a timer
    stop = progress.onChange(() => {
      if (performance.now() - drawn >= REDRAW_MS) draw();
    });
  }, PREPARE_NOTICE_MS);
  void done.then(() => {
    clearTimeout(timer);
    stop();
    if (shown && out.isTTY && progress) {
      out.write(`\r\x1b[K${what}: done in ${((performance.now() - started) / 1000).toFixed(1)} s, cached by hash for the next run\n`);
    }
  });
}
