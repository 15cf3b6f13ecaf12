// preview1 rights: a capability mask per descriptor. They only ever shrink
// (path_open intersects with the parent's inheriting set, fd_fdstat_set_rights
// may only drop), and a read-only mount hands out no mutating right at all.

const bit = (n: number): bigint => 1n << BigInt(n);

export const Rights = {
  FD_DATASYNC: bit(0), FD_READ: bit(1), FD_SEEK: bit(2), FD_FDSTAT_SET_FLAGS: bit(3), FD_SYNC: bit(4),
  FD_TELL: bit(5), FD_WRITE: bit(6), FD_ADVISE: bit(7), FD_ALLOCATE: bit(8),
  PATH_CREATE_DIRECTORY: bit(9), PATH_CREATE_FILE: bit(10), PATH_LINK_SOURCE: bit(11),
  PATH_LINK_TARGET: bit(12), PATH_OPEN: bit(13), FD_READDIR: bit(14), PATH_READLINK: bit(15),
  PATH_RENAME_SOURCE: bit(16), PATH_RENAME_TARGET: bit(17), PATH_FILESTAT_GET: bit(18),
  PATH_FILESTAT_SET_SIZE: bit(19), PATH_FILESTAT_SET_TIMES: bit(20), FD_FILESTAT_GET: bit(21),
  FD_FILESTAT_SET_SIZE: bit(22), FD_FILESTAT_SET_TIMES: bit(23), PATH_SYMLINK: bit(24),
  PATH_REMOVE_DIRECTORY: bit(25), PATH_UNLINK_FILE: bit(26), POLL_FD_READWRITE: bit(27),
  SOCK_SHUTDOWN: bit(28), SOCK_ACCEPT: bit(29),
} as const;

const R = Rights;

/** Everything a regular file descriptor can meaningfully hold. */
export const FILE_RIGHTS =
  R.FD_DATASYNC | R.FD_READ | R.FD_SEEK | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_TELL | R.FD_WRITE |
  R.FD_ADVISE | R.FD_ALLOCATE | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES |
  R.POLL_FD_READWRITE;

/** Everything a directory descriptor can meaningfully hold (no read/write/seek of bytes). */
export const DIR_RIGHTS =
  R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_DATASYNC | R.FD_ADVISE | R.PATH_CREATE_DIRECTORY |
  R.PATH_CREATE_FILE | R.PATH_LINK_SOURCE | R.PATH_LINK_TARGET | R.PATH_OPEN | R.FD_READDIR |
  R.PATH_READLINK | R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET | R.PATH_FILESTAT_GET |
  R.PATH_FILESTAT_SET_SIZE | R.PATH_FILESTAT_SET_TIMES | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_TIMES |
  R.PATH_SYMLINK | R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE | R.POLL_FD_READWRITE;

/** Rights that change what is on disk: never granted under a read-only mount. */
export const MUTATING_RIGHTS =
  R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES |
  R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE | R.PATH_LINK_SOURCE | R.PATH_LINK_TARGET |
  R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET | R.PATH_FILESTAT_SET_SIZE | R.PATH_FILESTAT_SET_TIMES |
  R.PATH_SYMLINK | R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE;

/** Rights that need the host file opened for writing. */
export const WRITE_ACCESS = R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE;

/** Rights that need the host file opened for reading. */
export const READ_ACCESS = R.FD_READ | R.FD_READDIR;

const STDIO_COMMON = R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE;
export const STDIN_RIGHTS = R.FD_READ | STDIO_COMMON;
export const STDOUT_RIGHTS = R.FD_WRITE | STDIO_COMMON;

export function preopenRights(readOnly: boolean): { base: bigint; inheriting: bigint } {
  const strip = readOnly ? ~MUTATING_RIGHTS : ~0n;
  return { base: DIR_RIGHTS & strip, inheriting: (DIR_RIGHTS | FILE_RIGHTS) & strip };
}

export function hasAll(have: bigint, need: bigint): boolean {
  return (have & need) === need;
}
