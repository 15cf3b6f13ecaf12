// Pids: one format for every kind of process, `{<host id>|<id>}` (SPEC section 3).

import { customAlphabet } from "nanoid";

const nanoid = customAlphabet("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 12);

export function newPid(host: string): string {
  return `{${host}|${nanoid()}}`;
}
