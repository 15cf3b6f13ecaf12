// wasi:random — secure, insecure and the insecure seed, all from node:crypto.

import { randomBytes } from "node:crypto";

const bytes = (len: bigint) => new Uint8Array(randomBytes(Number(len)));
const u64 = () => randomBytes(8).readBigUInt64LE();

export function randomImports(): Record<string, Record<string, unknown>> {
  // One seed per instance: the interface promises the same value on every call.
  const seed: [bigint, bigint] = [u64(), u64()];
  return {
    "wasi:random/random": { getRandomBytes: bytes, getRandomU64: u64 },
    "wasi:random/insecure": { getInsecureRandomBytes: bytes, getInsecureRandomU64: u64 },
    "wasi:random/insecure-seed": { insecureSeed: () => seed },
  };
}
