// sock_* : preview1 sockets only exist when a host hands them in, and ours
// never does. A valid fd is therefore never a socket.

import type { Ctx, FnGroup } from "./context.ts";
import { Errno } from "./errno.ts";

export function sockFunctions(ctx: Ctx): FnGroup {
  const notSock = (fd: number): number => (ctx.fds.has(fd) ? Errno.NOTSOCK : Errno.BADF);
  return {
    sync: {
      sock_accept: (fd: number) => notSock(fd),
      sock_recv: (fd: number) => notSock(fd),
      sock_send: (fd: number) => notSock(fd),
      sock_shutdown: (fd: number) => notSock(fd),
    },
  };
}
