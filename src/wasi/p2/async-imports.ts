// The P2 functions that may wait, as jco names them for `asyncImports`
// (`iface#func`, `iface#[method]resource.func`; unversioned names match every
// version). jco makes these suspend the guest (JSPI) on the Promise our host
// returns; every other import must answer synchronously. jco accepts no
// per-interface wildcard, and `*` would suspend on every call, so: a list.

const streams = "wasi:io/streams";
const fs = "wasi:filesystem/types";

export const ASYNC_IMPORTS: readonly string[] = [
  "wasi:io/poll#poll",
  "wasi:io/poll#[method]pollable.block",
  `${streams}#[method]input-stream.blocking-read`,
  `${streams}#[method]input-stream.blocking-skip`,
  `${streams}#[method]output-stream.blocking-write-and-flush`,
  `${streams}#[method]output-stream.blocking-flush`,
  `${streams}#[method]output-stream.blocking-write-zeroes-and-flush`,
  `${streams}#[method]output-stream.blocking-splice`,
  ...[
    "sync-data",
    "sync",
    "set-size",
    "set-times",
    "read",
    "write",
    "read-directory",
    "create-directory-at",
    "stat",
    "stat-at",
    "set-times-at",
    "link-at",
    "open-at",
    "readlink-at",
    "remove-directory-at",
    "rename-at",
    "symlink-at",
    "unlink-file-at",
    "metadata-hash",
    "metadata-hash-at",
  ].map((m) => `${fs}#[method]descriptor.${m}`),
  // the process API (wit/process.wit): a guest waits for its next event
  "wippy:process/process#receive",
];
