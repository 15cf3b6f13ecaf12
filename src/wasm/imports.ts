// What a binary asks the host for, read straight from its import section: the
// capability check runs on this before anything is transpiled, instrumented or
// compiled, so a binary that can never run fails in milliseconds.

import { readCoreInfo, Reader, type BinaryKind } from "./binary.ts";

/**
 * Core: `module.name` of every import. Component: the names of its top-level imports that
 * certainly need a host value (`wasi:cli/stdout@0.2.3`). Left out: type imports, and
 * imported instances whose type exports only types (wit-component imports
 * `wasi:clocks/wall-clock` for its `datetime` alone; jco asks nothing for those). An
 * instance whose type cannot be read here is left out too: the check on jco's own list
 * after transpiling still sees it.
 */
export function readImportNames(bytes: Uint8Array, kind: BinaryKind): string[] {
  if (kind === "core") return readCoreInfo(bytes).imports.map((i) => `${i.module}.${i.name}`);
  return readComponentImports(bytes);
}

const SECTION = { alias: 6, type: 7, import: 10, export: 11 } as const;
const SORT = { coreModule: 0x00, func: 0x01, value: 0x02, type: 0x03, component: 0x04, instance: 0x05 } as const;

/** What a component type index holds, as far as the check cares. */
type TypeInfo = "instance-with-values" | "instance-of-types" | "other";

class Unreadable extends Error {}

function readComponentImports(bytes: Uint8Array): string[] {
  const r = new Reader(bytes);
  r.pos = 8;
  const types: TypeInfo[] = []; // the component's type index space, in definition order
  const names: string[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    if (end > bytes.length) throw new Error("truncated WebAssembly component");
    try {
      if (id === SECTION.type) {
        for (let n = r.u32(); n > 0; n--) types.push(readDefType(r));
      } else if (id === SECTION.import) {
        for (let n = r.u32(); n > 0; n--) {
          const name = externName(r);
          const { sort, index } = readExternDesc(r);
          if (sort === SORT.type) types.push("other");
          else if (sort !== SORT.instance || types[index] === "instance-with-values") names.push(name);
        }
      } else if (id === SECTION.alias) {
        for (let n = r.u32(); n > 0; n--) if (readAlias(r) === SORT.type) types.push("other");
      } else if (id === SECTION.export) {
        for (let n = r.u32(); n > 0; n--) {
          externName(r);
          const sort = readSort(r);
          r.u32();
          if (r.byte() === 0x01) readExternDesc(r);
          if (sort === SORT.type) types.push("other"); // an exported type is a new type index
        }
      }
    } catch (err) {
      // past an encoding this reader does not know, type indices can no longer be
      // trusted: the imports read so far stand, the rest is left to the later check
      if (err instanceof Unreadable) return names;
      throw err;
    }
    r.pos = end;
  }
  return names;
}

/** importname' / exportname': a tag (0x00 now; 0x01 in older binaries) and the name. */
function externName(r: Reader): string {
  const tag = r.byte();
  if (tag !== 0x00 && tag !== 0x01) throw new Unreadable();
  return r.name();
}

/** A sort; a core sort (0x00) carries one more byte. */
function readSort(r: Reader): number {
  const sort = r.byte();
  if (sort === 0x00) r.byte();
  return sort;
}

function readExternDesc(r: Reader): { sort: number; index: number } {
  const sort = r.byte();
  switch (sort) {
    case SORT.coreModule:
      r.byte(); // 0x11
      return { sort, index: r.u32() };
    case SORT.func:
    case SORT.component:
    case SORT.instance:
      return { sort, index: r.u32() };
    case SORT.value:
      if (r.byte() === 0x00) r.u32();
      else skipValType(r);
      return { sort, index: -1 };
    case SORT.type:
      if (r.byte() === 0x00) r.u32();
      return { sort, index: -1 };
    default:
      throw new Unreadable();
  }
}

/** Returns the alias's sort. */
function readAlias(r: Reader): number {
  const sort = readSort(r);
  const target = r.byte();
  if (target === 0x00 || target === 0x01) {
    r.u32();
    r.name();
  } else if (target === 0x02) {
    r.u32();
    r.u32();
  } else throw new Unreadable();
  return sort;
}

/** A valtype is an s33: one byte 0x40–0x7f is a primitive; anything else a type index. */
function skipValType(r: Reader): void {
  const b = r.bytes[r.pos] ?? 0;
  if (b >= 0x40 && b <= 0x7f) r.byte();
  else r.u32();
}

function skipOptional(r: Reader, read: () => void): void {
  if (r.byte() === 0x01) read();
}

function skipVec(r: Reader, read: () => void): void {
  for (let n = r.u32(); n > 0; n--) read();
}

const labelled = (r: Reader) => () => {
  r.name();
  skipValType(r);
};

function readDefType(r: Reader): TypeInfo {
  const form = r.byte();
  switch (form) {
    case 0x42: { // instance type: does it export anything but types?
      let values = false;
      skipVec(r, () => {
        const decl = r.byte();
        if (decl === 0x01) readDefType(r);
        else if (decl === 0x02) readAlias(r);
        else if (decl === 0x04) {
          externName(r);
          if (readExternDesc(r).sort !== SORT.type) values = true;
        } else throw new Unreadable(); // 0x00: a core type; not in wit-component output
      });
      return values ? "instance-with-values" : "instance-of-types";
    }
    case 0x41: // component type
      skipVec(r, () => {
        const decl = r.byte();
        if (decl === 0x03 || decl === 0x04) {
          externName(r);
          readExternDesc(r);
        } else if (decl === 0x01) readDefType(r);
        else if (decl === 0x02) readAlias(r);
        else throw new Unreadable();
      });
      return "other";
    case 0x40: // func type
    case 0x43: // async func type
      skipVec(r, labelled(r));
      if (r.byte() === 0x00) skipValType(r);
      else skipVec(r, labelled(r)); // 0x01 0x00 (none) now; named results in older binaries
      return "other";
    case 0x3f: // resource
      r.byte();
      skipOptional(r, () => r.u32());
      return "other";
    case 0x3e: // resource with async destructor callback
      r.byte();
      skipOptional(r, () => r.u32());
      skipOptional(r, () => r.u32());
      return "other";
    default:
      skipDefValType(r, form);
      return "other";
  }
}

function skipDefValType(r: Reader, form: number): void {
  if (form >= 0x73 || form === 0x64) return; // primitive (0x64: error-context)
  switch (form) {
    case 0x72: // record
      skipVec(r, labelled(r));
      return;
    case 0x71: // variant: label, optional payload, then 0x00 (a `refines` index in older binaries)
      skipVec(r, () => {
        r.name();
        skipOptional(r, () => skipValType(r));
        skipOptional(r, () => r.u32());
      });
      return;
    case 0x70: // list
    case 0x6b: // option
      skipValType(r);
      return;
    case 0x67: // fixed-size list
      skipValType(r);
      r.u32();
      return;
    case 0x6f: // tuple
    case 0x6c: // union (older binaries)
      skipVec(r, () => skipValType(r));
      return;
    case 0x6e: // flags
    case 0x6d: // enum
      skipVec(r, () => r.name());
      return;
    case 0x6a: // result
      skipOptional(r, () => skipValType(r));
      skipOptional(r, () => skipValType(r));
      return;
    case 0x69: // own
    case 0x68: // borrow
      r.u32();
      return;
    case 0x66: // stream
    case 0x65: // future
      skipOptional(r, () => skipValType(r));
      return;
    default:
      throw new Unreadable();
  }
}
