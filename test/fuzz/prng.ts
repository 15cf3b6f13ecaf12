// A small seeded PRNG (mulberry32): a failing fuzz case is replayed from its seed.

export interface Random {
  (): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

export function prng(seed: number): Random {
  let s = seed | 0;
  const next = (() => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Random;
  next.int = (n) => Math.floor(next() * n);
  next.pick = (items) => items[next.int(items.length)]!;
  return next;
}
