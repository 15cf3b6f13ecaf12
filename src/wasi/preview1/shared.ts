// What the processes of one runtime share in preview1: the exact file times
// guests set (by inode) and the wall clock's anchor. Owned by the runtime
// (createCoreImports), so nothing in these modules outlives it.

import { Clocks } from "./clock.ts";
import { FileTimes } from "./filestat.ts";

export class Preview1Shared {
  readonly times = new FileTimes();
  readonly clocks = new Clocks();
}
