// The mailbox's plain-receive fast path (a lone waiter held without a Waiter) must
// keep what the general path does: arrival order among waiters, selective receives
// queued behind it, timeouts, the capacity, and rejection when the owner ends.

import { describe, expect, it } from "vitest";
import { Mailbox } from "../src/process/mailbox.ts";
import { ProcessExitError } from "../src/process/exit.ts";
import type { MailboxEvent } from "../src/process/events.ts";

const msg = (topic: string, payload: unknown = null): MailboxEvent => ({ type: "MESSAGE", from: "p", topic, payload });
const topicOf = (e: MailboxEvent | null) => (e?.type === "MESSAGE" ? e.topic : e?.type ?? null);

describe("mailbox waiters", () => {
  it("a plain receive waiting first is served first; a selective one behind it gets its match; the rest queues in order", async () => {
    const mb = new Mailbox("owner");
    const plain = mb.receive();
    const selective = mb.receive({ match: (e) => e.type === "MESSAGE" && e.topic === "b" });
    const plain2 = mb.receive();
    expect(mb.deliver(msg("a"))).toBe("queued");
    expect(mb.deliver(msg("b"))).toBe("queued");
    expect(mb.deliver(msg("c"))).toBe("queued");
    expect(mb.deliver(msg("d"))).toBe("queued");
    expect([topicOf(await plain), topicOf(await selective), topicOf(await plain2)]).toEqual(["a", "b", "c"]);
    expect(mb.size).toBe(1);
    expect(topicOf(await mb.receive())).toBe("d");
  });

  it("a selective receive waiting alone is not skipped by a later plain receive", async () => {
    const mb = new Mailbox("owner");
    const selective = mb.receive({ match: () => true, timeout: 10_000 });
    const plain = mb.receive();
    mb.deliver(msg("first"));
    mb.deliver(msg("second"));
    expect([topicOf(await selective), topicOf(await plain)]).toEqual(["first", "second"]);
  });

  it("a receive with a timeout behind a plain waiter times out alone; the plain waiter still gets the next event", async () => {
    const mb = new Mailbox("owner");
    const plain = mb.receive();
    expect(await mb.receive({ timeout: 1 })).toBeNull();
    mb.deliver(msg("late"));
    expect(topicOf(await plain)).toBe("late");
    expect(mb.size).toBe(0);
  });

  it("the capacity counts messages queued after plain receives were served; a full mailbox still takes system events", async () => {
    const mb = new Mailbox("owner", 2);
    const plain = mb.receive();
    expect(mb.deliver(msg("served"))).toBe("queued");
    expect(topicOf(await plain)).toBe("served");
    expect(mb.deliver(msg("1"))).toBe("queued");
    expect(mb.deliver(msg("2"))).toBe("queued");
    expect(mb.deliver(msg("3"))).toBe("full");
    expect(mb.deliver({ type: "CANCEL", from: "p", reason: "stop" })).toBe("queued");
    const got: unknown[] = [];
    for (let e = await mb.receive(0); e; e = await mb.receive(0)) got.push(topicOf(e));
    expect(got).toEqual(["1", "2", "CANCEL"]);
    const plain2 = mb.receive();
    expect(mb.deliver(msg("4"))).toBe("queued");
    expect(topicOf(await plain2)).toBe("4");
  });

  it("a plain receive waiting when the owner ends rejects with ProcessExitError, and so does every later one", async () => {
    const mb = new Mailbox("owner");
    const plain = mb.receive();
    const behind = mb.receive();
    mb.close({ kind: "killed", message: "gone" });
    await expect(plain).rejects.toBeInstanceOf(ProcessExitError);
    await expect(behind).rejects.toBeInstanceOf(ProcessExitError);
    await expect(mb.receive()).rejects.toBeInstanceOf(ProcessExitError);
    expect(mb.deliver(msg("after"))).toBe("closed");
  });

  it("wait() with no timeout takes the same fast path and is served in order with receives", async () => {
    const mb = new Mailbox("owner");
    const got: unknown[] = [];
    mb.wait(undefined, (e) => got.push(topicOf(e)), () => got.push("rejected"));
    const plain = mb.receive();
    mb.deliver(msg("x"));
    mb.deliver(msg("y"));
    expect(topicOf(await plain)).toBe("y");
    expect(got).toEqual(["x"]);
  });
});
