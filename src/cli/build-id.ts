// Which build of the CLI is running: scripts/build-cli.ts defines __WIPPY_BUILD__ in the
// bundle (a hash of the sources it was built from). Run from src/ or from tsc's dist/ there
// is none, and the CLI keeps no validated registry (a record must name the code that made it).

import { defaultCacheDir } from "../wasm/transpile-cache.ts";
import type { RegistryCache } from "../registry/cache.ts";

declare const __WIPPY_BUILD__: string | undefined;

export const BUILD_ID: string | undefined = typeof __WIPPY_BUILD__ === "string" ? __WIPPY_BUILD__ : undefined;

/** Where the CLI keeps the validated registry, when it runs from a build. */
export function registryCache(): RegistryCache | undefined {
  return BUILD_ID === undefined ? undefined : { dir: defaultCacheDir(), build: BUILD_ID };
}
