// `file://<path>` fields (process.actor `module`, process.lua `source`): relative to
// the definition file, and kept inside the source folder (SPEC section 2).
import * as path from "node:path";

/** The absolute path, or why it is refused; `example` shows the field as it should be written. */
export function resolveFileUrl(value: string, definitionFile: string, src: string, example: string, noun = "file"): string | { problem: string } {
  if (!value.startsWith("file://")) {
    return { problem: `"${value}" must be file://<path>, relative to the definition file (e.g. ${example})` };
  }
  const resolved = path.resolve(path.dirname(definitionFile), value.slice("file://".length));
  const rel = path.relative(src, resolved);
  if (rel === "" || rel.startsWith("..") || path.isAbsolute(rel)) {
    return { problem: `"${value}" resolves to ${resolved}, outside the source folder ${src}; move the ${noun} into it` };
  }
  return resolved;
}
