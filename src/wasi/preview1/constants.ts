// Flag and enum values of the preview1 ABI (witx), as plain objects.

export const Filetype = {
  UNKNOWN: 0, BLOCK_DEVICE: 1, CHARACTER_DEVICE: 2, DIRECTORY: 3, REGULAR_FILE: 4,
  SOCKET_DGRAM: 5, SOCKET_STREAM: 6, SYMBOLIC_LINK: 7,
} as const;

export const Fdflags = { APPEND: 1, DSYNC: 2, NONBLOCK: 4, RSYNC: 8, SYNC: 16 } as const;
export const FDFLAGS_ALL = 31;
export const FDFLAGS_SYNCS = Fdflags.DSYNC | Fdflags.RSYNC | Fdflags.SYNC;

export const Oflags = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
export const OFLAGS_ALL = 15;

export const LOOKUP_SYMLINK_FOLLOW = 1;

export const Fstflags = { ATIM: 1, ATIM_NOW: 2, MTIM: 4, MTIM_NOW: 8 } as const;

export const Whence = { SET: 0, CUR: 1, END: 2 } as const;

export const Clockid = { REALTIME: 0, MONOTONIC: 1, PROCESS_CPUTIME_ID: 2, THREAD_CPUTIME_ID: 3 } as const;

export const Eventtype = { CLOCK: 0, FD_READ: 1, FD_WRITE: 2 } as const;
export const EVENTRW_HANGUP = 1;
export const SUBCLOCK_ABSTIME = 1;

/** Highest valid `advice` value (noreuse). */
export const ADVICE_MAX = 5;

export const PREOPENTYPE_DIR = 0;

/** Sizes of the ABI structs written into guest memory. */
export const Size = { FILESTAT: 64, FDSTAT: 24, PRESTAT: 8, DIRENT: 24, SUBSCRIPTION: 48, EVENT: 32, IOVEC: 8 } as const;
