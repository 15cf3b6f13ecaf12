// WASI preview1 error numbers and the mapping from Node's fs errors onto them.
// Every host failure a guest can observe goes through `errnoOf`, so nothing but
// WasiExit ever unwinds into the guest.

export const Errno = {
  SUCCESS: 0, "2BIG": 1, ACCES: 2, ADDRINUSE: 3, ADDRNOTAVAIL: 4, AFNOSUPPORT: 5, AGAIN: 6,
  ALREADY: 7, BADF: 8, BADMSG: 9, BUSY: 10, CANCELED: 11, CHILD: 12, CONNABORTED: 13,
  CONNREFUSED: 14, CONNRESET: 15, DEADLK: 16, DESTADDRREQ: 17, DOM: 18, DQUOT: 19, EXIST: 20,
  FAULT: 21, FBIG: 22, HOSTUNREACH: 23, IDRM: 24, ILSEQ: 25, INPROGRESS: 26, INTR: 27,
  INVAL: 28, IO: 29, ISCONN: 30, ISDIR: 31, LOOP: 32, MFILE: 33, MLINK: 34, MSGSIZE: 35,
  MULTIHOP: 36, NAMETOOLONG: 37, NETDOWN: 38, NETRESET: 39, NETUNREACH: 40, NFILE: 41,
  NOBUFS: 42, NODEV: 43, NOENT: 44, NOEXEC: 45, NOLCK: 46, NOLINK: 47, NOMEM: 48, NOMSG: 49,
  NOPROTOOPT: 50, NOSPC: 51, NOSYS: 52, NOTCONN: 53, NOTDIR: 54, NOTEMPTY: 55,
  NOTRECOVERABLE: 56, NOTSOCK: 57, NOTSUP: 58, NOTTY: 59, NXIO: 60, OVERFLOW: 61,
  OWNERDEAD: 62, PERM: 63, PIPE: 64, PROTO: 65, PROTONOSUPPORT: 66, PROTOTYPE: 67, RANGE: 68,
  ROFS: 69, SPIPE: 70, SRCH: 71, STALE: 72, TIMEDOUT: 73, TXTBSY: 74, XDEV: 75, NOTCAPABLE: 76,
} as const;

export type ErrnoName = keyof typeof Errno;

/** A deliberate WASI error: thrown inside the host, returned to the guest as its number. */
export class WasiError extends Error {
  readonly errno: number;
  constructor(errno: number, message?: string) {
    super(message ?? `WASI errno ${errnoName(errno)}`);
    this.name = "WasiError";
    this.errno = errno;
  }
}

export function fail(errno: number, message?: string): never {
  throw new WasiError(errno, message);
}

const byNumber = new Map<number, string>(Object.entries(Errno).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return byNumber.get(errno) ?? String(errno);
}

// Node reports POSIX names ("ENOENT"); WASI's names are the same without the E.
const fromNode = new Map<string, number>(Object.entries(Errno).map(([k, v]) => [`E${k}`, v]));
fromNode.set("EWOULDBLOCK", Errno.AGAIN);
fromNode.set("EOPNOTSUPP", Errno.NOTSUP);
fromNode.set("ERR_FS_FILE_TOO_LARGE", Errno.FBIG);
fromNode.set("ERR_OUT_OF_RANGE", Errno.INVAL);
fromNode.set("ERR_INVALID_ARG_VALUE", Errno.INVAL);

/** The errno for anything a host operation threw. Unknown failures become EIO. */
export function errnoOf(err: unknown): number {
  if (err instanceof WasiError) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") return fromNode.get(code) ?? Errno.IO;
  return Errno.IO;
}
