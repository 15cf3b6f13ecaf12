// The public API, pinned: what `src/index.ts` exports (and nothing internal), and the
// shapes of the calls users write. A change here is a change of the contract.

import { describe, expect, expectTypeOf, it } from "vitest";
import type { AnyActorLogic } from "xstate";
import * as api from "../src/index.ts";
import type { ActorSpawnOptions, ExitEvent, ExitResult, MailboxEvent, ProcessContext, ProcessInfo, ReceiveOptions, Runtime } from "../src/index.ts";

describe("the public API", () => {
  it("exports exactly these values", () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        "ChildError",
        "MailboxFullError",
        "ProcessApi",
        "ProcessError",
        "ProcessExitError",
        "RegistryError",
        "Runtime",
        "SupervisorRef",
        "SupervisorSpecError",
        "actorProcessMachine",
        "formatSupervisionEvent",
        "fromProcess",
        "isExitError",
        "loadRegistry",
        "processMachine",
        "processOf",
        "supervisorMachine",
      ].sort(),
    );
  });

  it("error classes: ProcessExitError is a ProcessError; MailboxFullError and ChildError are Errors with pid and code", () => {
    const exit = new api.ProcessExitError("{h|1}", { kind: "killed", message: "x" });
    expect(exit).toBeInstanceOf(api.ProcessError);
    expect(exit.kind).toBe("killed");
    expect(new api.MailboxFullError("{h|1}", 3)).toMatchObject({ pid: "{h|1}" });
    expect(new api.MailboxFullError("{h|1}", 3)).toBeInstanceOf(Error);
    expect(new api.ChildError("not_found", "no child x")).toMatchObject({ code: "not_found" });
    expect(api.isExitError({ error: { kind: "trap", message: "t" } })).toBe(true);
    expect(api.isExitError({ value: 1 })).toBe(false);
  });

  it("types: every operation on a process returns a Promise; spawn signatures agree", () => {
    type P = Runtime["process"];
    expectTypeOf<P["spawn"]>().toEqualTypeOf<(id: string, host: string, ...args: unknown[]) => Promise<string>>();
    expectTypeOf<P["spawnMonitored"]>().toEqualTypeOf<P["spawn"]>();
    expectTypeOf<P["spawnLinked"]>().toEqualTypeOf<P["spawn"]>();
    expectTypeOf<P["spawnLinkedMonitored"]>().toEqualTypeOf<P["spawn"]>();
    expectTypeOf<P["send"]>().toEqualTypeOf<(pid: string, topic: string, payload?: unknown) => Promise<boolean>>();
    expectTypeOf<P["monitor"]>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<P["link"]>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<P["terminate"]>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<P["cancel"]>().returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf<P["receive"]>().toEqualTypeOf<(opts?: ReceiveOptions | number) => Promise<MailboxEvent | null>>();
    expectTypeOf<P["exec"]>().returns.toEqualTypeOf<Promise<ExitResult>>();
    expectTypeOf<Runtime["spawnActor"]>().toEqualTypeOf<(logic: AnyActorLogic, opts?: ActorSpawnOptions) => Promise<string>>();
    expectTypeOf<P["spawnActor"]>().toEqualTypeOf<Runtime["spawnActor"]>();
    expectTypeOf<ProcessContext["spawnActor"]>().toEqualTypeOf<Runtime["spawnActor"]>();
    expectTypeOf<ProcessContext["self"]>().toEqualTypeOf<string>();
    expectTypeOf<ProcessContext["signal"]>().toEqualTypeOf<AbortSignal>();
    expectTypeOf<Runtime["onExit"]>().toEqualTypeOf<(listener: (event: ExitEvent) => void) => () => void>();
    expectTypeOf<Runtime["processes"]>().returns.toEqualTypeOf<ProcessInfo[]>();
    expectTypeOf<ProcessInfo["kind"]>().toEqualTypeOf<"wasm" | "lua" | "actor" | "supervisor">();
    expectTypeOf<ProcessInfo["entry"]>().toEqualTypeOf<string | null>();
  });

  it("keeps internals out: no table, hosts or supervision on a Runtime", () => {
    const keys = Object.getOwnPropertyNames(api.Runtime.prototype);
    for (const internal of ["table", "hosts", "supervision", "spawn"]) expect(keys).not.toContain(internal);
  });
});
