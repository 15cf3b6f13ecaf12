// What follows each opcode in a function body, so that the binary instrumenter can
// step over any instruction without decoding it into an object. Covered: MVP,
// sign extension, saturating truncation and bulk memory (0xFC 0-17), reference types,
// tail calls, SIMD with relaxed SIMD (0xFD), threads (0xFE). Anything else (exception
// handling, GC and typed function references, multi-memory, memory64) is refused.

import { type ByteReader, unsupported } from "./wasm-bytes.ts";

/** The immediates of an instruction. */
export const IMM_NONE = 0;
/** block, loop, if: a block type. */
export const IMM_BLOCK = 1;
/** br, br_if; also local.get/set/tee, table.get/set (one u32). */
export const IMM_U32 = 2;
export const IMM_BR_TABLE = 3;
/** call, return_call: a function index (renumbered). */
export const IMM_FUNC = 4;
/** call_indirect, return_call_indirect: type and table. */
export const IMM_CALL_INDIRECT = 5;
/** global.get, global.set: a global index (renumbered). */
export const IMM_GLOBAL = 6;
export const IMM_MEMARG = 7;
/** memory.size, memory.grow: memory 0 only. */
export const IMM_MEMORY = 8;
export const IMM_I32 = 9;
export const IMM_I64 = 10;
export const IMM_F32 = 11;
export const IMM_F64 = 12;
export const IMM_SELECT_T = 13;
/** ref.null: a heap type. */
export const IMM_HEAP_TYPE = 14;
export const IMM_PREFIX_FC = 15;
export const IMM_PREFIX_FD = 16;
export const IMM_PREFIX_FE = 17;
/** Not something this instrumenter knows: refused. */
export const IMM_UNKNOWN = 18;

/** Immediates of each one-byte opcode. */
export const OPS = new Uint8Array(256).fill(IMM_UNKNOWN);

function set(table: Uint8Array, from: number, to: number, imm: number): void {
  for (let op = from; op <= to; op++) table[op] = imm;
}

set(OPS, 0x00, 0x01, IMM_NONE); // unreachable, nop
set(OPS, 0x02, 0x04, IMM_BLOCK); // block, loop, if
OPS[0x05] = IMM_NONE; // else
OPS[0x0b] = IMM_NONE; // end
set(OPS, 0x0c, 0x0d, IMM_U32); // br, br_if
OPS[0x0e] = IMM_BR_TABLE;
OPS[0x0f] = IMM_NONE; // return
OPS[0x10] = IMM_FUNC; // call
OPS[0x11] = IMM_CALL_INDIRECT;
OPS[0x12] = IMM_FUNC; // return_call
OPS[0x13] = IMM_CALL_INDIRECT; // return_call_indirect
set(OPS, 0x1a, 0x1b, IMM_NONE); // drop, select
OPS[0x1c] = IMM_SELECT_T;
set(OPS, 0x20, 0x22, IMM_U32); // local.get/set/tee
set(OPS, 0x23, 0x24, IMM_GLOBAL);
set(OPS, 0x25, 0x26, IMM_U32); // table.get/set
set(OPS, 0x28, 0x3e, IMM_MEMARG); // loads, stores
set(OPS, 0x3f, 0x40, IMM_MEMORY); // memory.size, memory.grow
OPS[0x41] = IMM_I32;
OPS[0x42] = IMM_I64;
OPS[0x43] = IMM_F32;
OPS[0x44] = IMM_F64;
set(OPS, 0x45, 0xc4, IMM_NONE); // numeric, sign extension
OPS[0xd0] = IMM_HEAP_TYPE; // ref.null
OPS[0xd1] = IMM_NONE; // ref.is_null
OPS[0xd2] = IMM_FUNC; // ref.func
OPS[0xfc] = IMM_PREFIX_FC;
OPS[0xfd] = IMM_PREFIX_FD;
OPS[0xfe] = IMM_PREFIX_FE;

/** 0xFC: saturating truncation and bulk memory / table operations. */
const FC_NONE = 0;
const FC_DATA_MEMORY = 1;
const FC_U32 = 2;
const FC_MEMORY_MEMORY = 3;
const FC_MEMORY = 4;
const FC_U32_U32 = 5;
const FC_UNKNOWN = 6;
const FC_OPS = new Uint8Array(18);
set(FC_OPS, 0, 7, FC_NONE); // trunc_sat
FC_OPS[8] = FC_DATA_MEMORY; // memory.init
FC_OPS[9] = FC_U32; // data.drop
FC_OPS[10] = FC_MEMORY_MEMORY; // memory.copy
FC_OPS[11] = FC_MEMORY; // memory.fill
FC_OPS[12] = FC_U32_U32; // table.init
FC_OPS[13] = FC_U32; // elem.drop
FC_OPS[14] = FC_U32_U32; // table.copy
set(FC_OPS, 15, 17, FC_U32); // table.grow, table.size, table.fill

/** 0xFD: SIMD (0x00-0xFF) and relaxed SIMD (0x100-0x113). */
const FD_NONE = 0;
const FD_MEMARG = 1;
const FD_BYTES16 = 2;
const FD_LANE = 3;
const FD_MEMARG_LANE = 4;
const FD_UNKNOWN = 5;
const FD_OPS = new Uint8Array(0x114).fill(FD_NONE);
set(FD_OPS, 0x00, 0x0b, FD_MEMARG); // v128.load*, v128.store
set(FD_OPS, 0x0c, 0x0d, FD_BYTES16); // v128.const, i8x16.shuffle
set(FD_OPS, 0x15, 0x22, FD_LANE); // extract_lane, replace_lane
set(FD_OPS, 0x54, 0x5b, FD_MEMARG_LANE); // v128.load*_lane, v128.store*_lane
set(FD_OPS, 0x5c, 0x5d, FD_MEMARG); // v128.load32_zero, v128.load64_zero
// opcodes the SIMD proposal left unassigned
for (const op of [0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0, 0xd2, 0xd3, 0xd4, 0xe2, 0xee]) FD_OPS[op] = FD_UNKNOWN;

/** True for value types every engine knows (numbers, v128, funcref, externref). */
export function isPlainValType(b: number): boolean {
  return (b >= 0x7b && b <= 0x7f) || b === 0x70 || b === 0x6f;
}

export function valType(r: ByteReader): number {
  const b = r.byte();
  if (!isPlainValType(b)) unsupported(`value type 0x${b.toString(16)} (typed references / GC)`);
  return b;
}

/** A block type: empty, one value type, or a type index (s33). */
export function skipBlockType(r: ByteReader): void {
  const b = r.bytes[r.pos];
  if (b === 0x40 || (b !== undefined && isPlainValType(b))) {
    r.pos++;
    return;
  }
  if (b === undefined) unsupported("truncated module");
  if (b < 0x40) {
    r.pos++;
    return;
  }
  if (b & 0x80) {
    r.skipLeb();
    return;
  }
  unsupported(`block type 0x${b.toString(16)} (typed references / GC)`);
}

export function skipMemarg(r: ByteReader): void {
  const align = r.u32();
  if (align & 0x40) unsupported("a memory access with a memory index (multi-memory)");
  r.skipLeb();
}

export function memoryIndex(r: ByteReader): void {
  if (r.u32() !== 0) unsupported("a memory index other than 0 (multi-memory)");
}

/** Steps over the immediates of a one-byte opcode whose kind is not rewritten. */
export function skipImmediates(r: ByteReader, op: number, imm: number): void {
  switch (imm) {
    case IMM_NONE:
      return;
    case IMM_BLOCK:
      return skipBlockType(r);
    case IMM_U32:
    case IMM_FUNC:
    case IMM_GLOBAL:
      r.skipLeb();
      return;
    case IMM_BR_TABLE:
      for (let n = r.u32(); n >= 0; n--) r.skipLeb(); // n labels and the default
      return;
    case IMM_CALL_INDIRECT:
      r.skipLeb();
      r.skipLeb();
      return;
    case IMM_MEMARG:
      return skipMemarg(r);
    case IMM_MEMORY:
      return memoryIndex(r);
    case IMM_I32:
    case IMM_I64:
      r.skipLeb();
      return;
    case IMM_F32:
      r.skip(4);
      return;
    case IMM_F64:
      r.skip(8);
      return;
    case IMM_SELECT_T:
      for (let n = r.u32(); n > 0; n--) valType(r);
      return;
    case IMM_HEAP_TYPE: {
      const t = r.byte();
      if (t !== 0x70 && t !== 0x6f) unsupported(`ref.null of heap type 0x${t.toString(16)} (typed references / GC)`);
      return;
    }
    case IMM_PREFIX_FC:
      return skipFC(r);
    case IMM_PREFIX_FD:
      return skipFD(r);
    case IMM_PREFIX_FE:
      return skipFE(r);
    default:
      return unknownOpcode(op);
  }
}

export function unknownOpcode(op: number): never {
  const what =
    op === 0x06 || op === 0x07 || op === 0x08 || op === 0x09 || op === 0x0a || op === 0x18 || op === 0x19 || op === 0x1f
      ? " (exception handling)"
      : op === 0x14 || op === 0x15 || (op >= 0xd3 && op <= 0xd6) || op === 0xfb
        ? " (typed function references / GC)"
        : "";
  unsupported(`opcode 0x${op.toString(16)}${what}`);
}

function skipFC(r: ByteReader): void {
  const sub = r.u32();
  const kind = sub < FC_OPS.length ? FC_OPS[sub]! : FC_UNKNOWN;
  switch (kind) {
    case FC_NONE:
      return;
    case FC_DATA_MEMORY:
      r.skipLeb();
      return memoryIndex(r);
    case FC_U32:
      r.skipLeb();
      return;
    case FC_MEMORY_MEMORY:
      memoryIndex(r);
      return memoryIndex(r);
    case FC_MEMORY:
      return memoryIndex(r);
    case FC_U32_U32:
      r.skipLeb();
      r.skipLeb();
      return;
    default:
      unsupported(`opcode 0xfc ${sub}`);
  }
}

function skipFD(r: ByteReader): void {
  const sub = r.u32();
  const kind = sub < FD_OPS.length ? FD_OPS[sub]! : FD_UNKNOWN;
  switch (kind) {
    case FD_NONE:
      return;
    case FD_MEMARG:
      return skipMemarg(r);
    case FD_BYTES16:
      r.skip(16);
      return;
    case FD_LANE:
      r.skip(1);
      return;
    case FD_MEMARG_LANE:
      skipMemarg(r);
      r.skip(1);
      return;
    default:
      unsupported(`SIMD opcode 0xfd ${sub}`);
  }
}

/** 0xFE: threads. 0x03 is atomic.fence (one zero byte); 0x00-0x02 and 0x10-0x4e take a memarg. */
function skipFE(r: ByteReader): void {
  const sub = r.u32();
  if (sub === 0x03) {
    if (r.byte() !== 0) unsupported("atomic.fence with a non-zero flag");
    return;
  }
  if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) return skipMemarg(r);
  unsupported(`atomic opcode 0xfe ${sub}`);
}
