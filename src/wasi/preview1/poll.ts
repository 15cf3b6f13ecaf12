// poll_oneoff: clock subscriptions sleep on a real timer and stdin waits for
// data, both as a suspending import, so only the calling process waits.
// Files and the output streams are always ready, as on POSIX.

import { EVENTRW_HANGUP, Eventtype, SUBCLOCK_ABSTIME } from "./constants.ts";
import { abortable, type Ctx, type FnGroup } from "./context.ts";
import { Errno, WasiError } from "./errno.ts";
import { Rights } from "./rights.ts";

interface Event {
  userdata: bigint;
  error: number;
  type: number;
  nbytes: bigint;
  flags: number;
}

interface ClockWait {
  userdata: bigint;
  clock: number;
  /** Deadline on the subscription's own clock. */
  deadline: bigint;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

function sleepMs(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

export function pollFunctions(ctx: Ctx): FnGroup {
  const { mem, fds, io } = ctx;
  const { clocks: guestClocks } = ctx.shared;

  const fdEvent = async (userdata: bigint, type: number, fd: number): Promise<Event | "wait"> => {
    const ev: Event = { userdata, error: Errno.SUCCESS, type, nbytes: 0n, flags: 0 };
    if (!fds.has(fd)) return { ...ev, error: Errno.BADF };
    const entry = fds.get(fd);
    if ((entry.rightsBase & Rights.POLL_FD_READWRITE) === 0n) return { ...ev, error: Errno.NOTCAPABLE };
    const reading = type === Eventtype.FD_READ;
    switch (entry.kind) {
      case "stdin":
        if (!reading) return { ...ev, error: Errno.BADF };
        if (!ctx.stdin.ready) return "wait";
        return { ...ev, nbytes: BigInt(ctx.stdin.available), flags: ctx.stdin.eof ? EVENTRW_HANGUP : 0 };
      case "stdout":
      case "stderr":
        return reading ? { ...ev, error: Errno.BADF } : ev;
      case "file": {
        if (!reading) return ev;
        const size = (await entry.handle.stat({ bigint: true })).size;
        return { ...ev, nbytes: size > entry.position ? size - entry.position : 0n };
      }
      case "dir":
        return { ...ev, error: Errno.BADF };
    }
  };

  const writeEvents = (outPtr: number, neventsPtr: number, events: Event[]): void => {
    events.forEach((ev, i) => {
      const at = (outPtr >>> 0) + i * 32;
      mem.zero(at, 32);
      mem.setU64(at, ev.userdata);
      mem.setU16(at + 8, ev.error);
      mem.setU8(at + 10, ev.type);
      mem.setU64(at + 16, ev.nbytes);
      mem.setU16(at + 24, ev.flags);
    });
    mem.setU32(neventsPtr, events.length);
  };

  /** One clock subscription alone (a sleep, the common case): one timer and one Promise. */
  const pollClock = (inPtr: number, outPtr: number, neventsPtr: number): Promise<number> => {
    try {
      mem.bytes(inPtr, 48);
      mem.bytes(outPtr, 32);
      mem.bytes(neventsPtr, 4);
      const at = inPtr >>> 0;
      const userdata = mem.u64(at);
      const clock = mem.u32(at + 16);
      const timeout = mem.u64(at + 24);
      const now = guestClocks.now(clock);
      const answer = (error: number): number => {
        writeEvents(outPtr, neventsPtr, [{ userdata, error, type: Eventtype.CLOCK, nbytes: 0n, flags: 0 }]);
        return Errno.SUCCESS;
      };
      if (now === null) return Promise.resolve(answer(Errno.INVAL));
      const deadline = (mem.u16(at + 40) & SUBCLOCK_ABSTIME) !== 0 ? timeout : now + timeout;
      if (now >= deadline) return Promise.resolve(answer(Errno.SUCCESS));
      const signal = io.signal;
      if (signal?.aborted) return Promise.reject(new WasiError(Errno.INTR));
      return new Promise<number>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(new WasiError(Errno.INTR));
        };
        // a timer may fire a little before the guest's clock reaches the deadline: then it sleeps again
        const due = (): void => {
          const left = deadline - (guestClocks.now(clock) ?? deadline);
          if (left > 0n) {
            timer = setTimeout(due, Math.min(Number((left + 999_999n) / 1_000_000n), MAX_TIMER_MS));
            return;
          }
          signal?.removeEventListener("abort", onAbort);
          try {
            resolve(answer(Errno.SUCCESS));
          } catch (err) {
            reject(err);
          }
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        due();
      });
    } catch (err) {
      return Promise.reject(err);
    }
  };

  const poll = (inPtr: number, outPtr: number, n: number, neventsPtr: number): Promise<number> => {
    if (n >>> 0 === 1) {
      let clock = false;
      try {
        clock = mem.u8((inPtr >>> 0) + 8) === Eventtype.CLOCK;
      } catch {
        // out of bounds: pollAny answers EFAULT
      }
      if (clock) return pollClock(inPtr, outPtr, neventsPtr);
    }
    return pollAny(inPtr, outPtr, n, neventsPtr);
  };

  const pollAny = async (inPtr: number, outPtr: number, n: number, neventsPtr: number): Promise<number> => {
    n >>>= 0;
    if (n === 0) return Errno.INVAL;
    mem.bytes(inPtr, n * 48);
    mem.bytes(outPtr, n * 32);
    mem.bytes(neventsPtr, 4);
    const events: Event[] = [];
    const clocks: ClockWait[] = [];
    const stdinWaits: bigint[] = [];
    for (let i = 0; i < n; i++) {
      const at = (inPtr >>> 0) + i * 48;
      const userdata = mem.u64(at);
      const type = mem.u8(at + 8);
      if (type === Eventtype.CLOCK) {
        const clock = mem.u32(at + 16);
        const timeout = mem.u64(at + 24);
        const now = guestClocks.now(clock);
        if (now === null) {
          events.push({ userdata, error: Errno.INVAL, type, nbytes: 0n, flags: 0 });
          continue;
        }
        const abs = (mem.u16(at + 40) & SUBCLOCK_ABSTIME) !== 0;
        clocks.push({ userdata, clock, deadline: abs ? timeout : now + timeout });
      } else if (type === Eventtype.FD_READ || type === Eventtype.FD_WRITE) {
        const ev = await fdEvent(userdata, type, mem.u32(at + 16));
        if (ev === "wait") stdinWaits.push(userdata);
        else events.push(ev);
      } else {
        events.push({ userdata, error: Errno.INVAL, type, nbytes: 0n, flags: 0 });
      }
    }

    const expired = (): Event[] =>
      clocks
        .filter((c) => (guestClocks.now(c.clock) ?? 0n) >= c.deadline)
        .map((c) => ({ userdata: c.userdata, error: Errno.SUCCESS, type: Eventtype.CLOCK, nbytes: 0n, flags: 0 }));
    const stdinReady = (): Event[] =>
      ctx.stdin.ready
        ? stdinWaits.map((userdata) => ({
            userdata,
            error: Errno.SUCCESS,
            type: Eventtype.FD_READ,
            nbytes: BigInt(ctx.stdin.available),
            flags: ctx.stdin.eof ? EVENTRW_HANGUP : 0,
          }))
        : [];

    events.push(...expired());
    while (events.length === 0) {
      if (clocks.length === 0 && stdinWaits.length === 0) break;
      // Sleep until the nearest deadline (measured on the monotonic clock).
      let waitNs: bigint | null = null;
      for (const c of clocks) {
        const left = c.deadline - (guestClocks.now(c.clock) ?? c.deadline);
        if (waitNs === null || left < waitNs) waitNs = left;
      }
      const timer = waitNs === null ? null : sleepMs(Number((waitNs + 999_999n) / 1_000_000n));
      const waits: Promise<void>[] = [];
      if (timer) waits.push(timer.promise);
      if (stdinWaits.length > 0) waits.push(ctx.stdin.wait());
      try {
        await abortable(Promise.race(waits), io.signal);
      } finally {
        timer?.cancel();
      }
      events.push(...expired(), ...stdinReady());
    }

    writeEvents(outPtr, neventsPtr, events);
    return Errno.SUCCESS;
  };

  return { suspending: { poll_oneoff: poll } };
}
