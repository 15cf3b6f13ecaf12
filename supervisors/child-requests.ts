// OTP's child API as pure functions of the book: start_child, terminate_child,
// restart_child and delete_child. A refused request leaves the book as it was
// and answers with a ChildError code; an accepted one answers when its child
// is up (pid) or down, through the record's waiting list.

import { Draft, findChild, newRecord, type Book, type ChildErrorCode, type ChildRecord, type Step } from "./bookkeeping.ts";
import { stopNext } from "./plan.ts";
import { push } from "./persistent.ts";
import type { ChildSpec } from "./spec.ts";

export type ChildRequest =
  | { type: "START_CHILD"; spec: ChildSpec; request: number }
  | { type: "TERMINATE_CHILD"; id: string; request: number }
  | { type: "RESTART_CHILD"; id: string; request: number }
  | { type: "DELETE_CHILD"; id: string; request: number };

export interface Refusal {
  code: ChildErrorCode;
  message: string;
}

/** Why the request cannot be carried out, or null: the one check the machine and any caller share. */
export function refusal(book: Book, req: ChildRequest): Refusal | null {
  const id = req.type === "START_CHILD" ? req.spec.id : req.id;
  const c = findChild(book, id);
  const sup = `supervisor ${book.spec.id}`;
  if (!c) return req.type === "START_CHILD" ? null : { code: "not_found", message: `${sup} has no child ${id}` };
  switch (req.type) {
    case "START_CHILD":
      if (c.state === "stopped") return { code: "already_present", message: `${sup}: child ${id} is already present (stopped); restartChild starts it again, or deleteChild it first` };
      if (c.state === "restarting") return { code: "restarting", message: `${sup}: child ${id} is waiting to be restarted` };
      return { code: "already_started", message: `${sup}: child ${id} is already started${c.pid ? ` as ${c.pid}` : ""}` };
    case "TERMINATE_CHILD":
      return null;
    case "RESTART_CHILD":
    case "DELETE_CHILD":
      if (c.state === "stopped") return null;
      if (c.state === "restarting") return { code: "restarting", message: `${sup}: child ${id} is waiting to be restarted; terminateChild it first` };
      return { code: "running", message: `${sup}: child ${id} is running${c.pid ? ` as ${c.pid}` : ""}; terminateChild it first` };
  }
}

/** Carries out a child request, or answers it with its refusal (the book unchanged). */
export function handleRequest(book: Book, req: ChildRequest): Step {
  const d = new Draft(book);
  const refused = refusal(book, req);
  if (refused) {
    d.reply(req.request, { refused: refused.code, message: refused.message });
    return d.done();
  }
  if (d.stopReason !== null && (req.type === "START_CHILD" || req.type === "RESTART_CHILD")) {
    d.reply(req.request, { failed: { kind: "noproc", message: `supervisor ${d.id} is stopping (${d.stopReason}); it starts no children` } });
    return d.done();
  }
  const up = { request: req.request, until: "up" } as const;
  switch (req.type) {
    case "START_CHILD": {
      const c = newRecord(book.children.size, req.spec, [up]);
      d.put(c);
      d.spawn(c);
      break;
    }
    case "RESTART_CHILD": {
      const c = findChild(book, req.id)!;
      d.put({ ...c, state: "starting", spawning: true, restarts: c.restarts + 1, waiting: [...c.waiting, up] });
      d.spawn(c);
      break;
    }
    case "DELETE_CHILD":
      d.remove(findChild(book, req.id)!.key);
      d.reply(req.request, { ok: null });
      break;
    case "TERMINATE_CHILD":
      terminate(d, findChild(book, req.id)!, req.request);
      break;
  }
  return d.done();
}

/** Stops the child and keeps its spec: `stopped`, not restarted; answers once it is down. */
function terminate(d: Draft, c: ChildRecord, request: number): void {
  if (c.state === "stopped") {
    d.reply(request, { ok: null });
    return;
  }
  const waiting = [...c.waiting, { request, until: "down" as const }];
  if (c.state === "restarting") {
    d.put({ ...c, state: "stopped", waiting });
    return;
  }
  // running, stopping (by a restart plan or shutdown) or starting: it goes down and stays down
  d.put({ ...c, state: "stopping", rejoin: false, terminating: true, waiting });
  if (c.state === "running") {
    d.stops = push(d.stops, { key: c.key, reason: `terminated by ${d.id}` });
    stopNext(d);
  }
}
