// The instruction walk of the binary instrumenter (instrument-binary.ts): copies an
// expression (a function body or a constant expression) from the input to a writer,
// renumbering function and global indices, replacing `memory.grow` with a call to the
// checking helper, and putting a fuel countdown at the top of every loop. Unchanged
// runs of bytes are copied in one piece; nothing is allocated per instruction.

import { type ByteReader, type ByteWriter, unsupported } from "./wasm-bytes.ts";
import { IMM_NONE, memoryIndex, OPS, skipBlockType, skipImmediates } from "./wasm-ops.ts";

/** How indices move and what the rewrite calls. */
export interface CodeRemap {
  /** Functions below this index are imports that keep their index; the rest move by `addedFunctions`. */
  importedFunctions: number;
  addedFunctions: number;
  importedGlobals: number;
  addedGlobals: number;
  /** The memory.grow helper (new index), or -1 to leave memory.grow alone. */
  growFunction: number;
  /** The refill helper (new index), or -1 for no loop countdown. */
  refillFunction: number;
}

export class CodeRewriter {
  readonly remap: CodeRemap;
  /** Of the last expression: it calls something (call, call_indirect, a tail call). */
  calls = false;
  /** Of the last expression: it has a loop. */
  loops = false;

  constructor(remap: CodeRemap) {
    this.remap = remap;
  }

  /**
   * Copies instructions from `r` up to and including the `end` that closes the
   * expression. `wf` is the local counted down at loop headers.
   */
  expression(r: ByteReader, w: ByteWriter, wf: number): void {
    const { importedFunctions, addedFunctions, importedGlobals, addedGlobals, growFunction, refillFunction } = this.remap;
    const bytes = r.bytes;
    const end = r.end;
    let calls = false;
    let loops = false;
    let depth = 0;
    let from = r.pos; // start of the bytes not yet copied
    for (;;) {
      const at = r.pos;
      if (at >= end) unsupported("truncated function body");
      const op = bytes[at]!;
      r.pos = at + 1;
      switch (op) {
        case 0x0b: // end
          if (depth-- === 0) {
            w.bytes(bytes, from, r.pos);
            this.calls = calls;
            this.loops = loops;
            return;
          }
          break;
        case 0x02: // block
        case 0x04: // if
          depth++;
          skipBlockType(r);
          break;
        case 0x03: // loop
          depth++;
          loops = true;
          skipBlockType(r);
          if (refillFunction >= 0) {
            w.bytes(bytes, from, r.pos);
            loopCountdown(w, wf, refillFunction);
            from = r.pos;
          }
          break;
        case 0x10: // call
        case 0x12: // return_call
        case 0xd2: {
          // ref.func
          if (op !== 0xd2) calls = true;
          const f = r.u32();
          if (f >= importedFunctions) {
            w.bytes(bytes, from, at + 1);
            w.u32(f + addedFunctions);
            from = r.pos;
          }
          break;
        }
        case 0x11: // call_indirect
        case 0x13: // return_call_indirect
          calls = true;
          r.skipLeb();
          r.skipLeb();
          break;
        case 0x23: // global.get
        case 0x24: {
          // global.set
          const g = r.u32();
          if (g >= importedGlobals) {
            w.bytes(bytes, from, at + 1);
            w.u32(g + addedGlobals);
            from = r.pos;
          }
          break;
        }
        case 0x40: // memory.grow
          memoryIndex(r);
          if (growFunction >= 0) {
            w.bytes(bytes, from, at);
            w.byte(0x10);
            w.u32(growFunction);
            from = r.pos;
          }
          break;
        // the most frequent immediates, stepped over here rather than through skipImmediates
        case 0x0c: // br
        case 0x0d: // br_if
        case 0x20: // local.get
        case 0x21: // local.set
        case 0x22: // local.tee
        case 0x41: // i32.const
        case 0x42: {
          // i64.const
          let p = at + 1;
          while (bytes[p++]! & 0x80);
          if (p > end) unsupported("truncated function body");
          r.pos = p;
          break;
        }
        default: {
          const imm = OPS[op]!;
          if (imm !== IMM_NONE) skipImmediates(r, op, imm);
        }
      }
    }
  }
}

/** wf -= 1; if (wf < 0) wf = refill() */
function loopCountdown(w: ByteWriter, wf: number, refill: number): void {
  w.byte(0x20); // local.get wf
  w.u32(wf);
  w.byte(0x41); // i32.const 1
  w.byte(0x01);
  w.byte(0x6b); // i32.sub
  w.byte(0x22); // local.tee wf
  w.u32(wf);
  w.byte(0x41); // i32.const 0
  w.byte(0x00);
  w.byte(0x48); // i32.lt_s
  w.byte(0x04); // if
  w.byte(0x40);
  w.byte(0x10); // call refill
  w.u32(refill);
  w.byte(0x21); // local.set wf
  w.u32(wf);
  w.byte(0x0b); // end
}
