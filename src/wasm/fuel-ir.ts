// Fuel counting rewritten in binaryen's IR: the same result as fuel-sites.ts (which
// works on the text form), but in one walk, without printing and re-parsing the
// module (for a 12 MB module: ~1 s instead of ~22 s).
//
// binaryen's log-execution pass has put a mark `(call $mark (i32.const id))` first in
// every function body and every loop body, and before every return. The walk finds
// them all, and then:
// - a loop's mark becomes a countdown of a local; the loop is re-labelled as an outer
//   retry loop around a copy of itself, so that refilling happens outside the hot loop:
//     (loop $retry (block $exit (block $refill (br $exit (loop $label check body)))
//                   (local.set $wf (call $refill)) (br $retry)))
// - a function's mark counts down the global and loads the local from it, except in a
//   leaf (it calls nothing and has no loop, so it ends after a bounded number of steps,
//   and whatever called it has been charged): there it becomes a nop;
// - a return's mark becomes a nop.
// The walk reads children through binaryen.js's expression classes. An expression kind
// it does not know is not entered; if that hides any mark, the ids it saw have a gap
// and it returns false, so the caller falls back to the text rewrite.

import type binaryenApi from "binaryen";

type Binaryen = typeof binaryenApi;
type BinaryenModule = binaryenApi.Module;
type Ref = number;

/** The parts of binaryen.js's expression classes used here (not in its typings). */
interface ExpressionApi {
  _BinaryenExpressionGetId(e: Ref): number;
  _BinaryenFunctionAddVar(fn: number, type: number): number;
  Function: { getBody(fn: number): Ref };
  Call: { getTarget(e: Ref): string; getOperandAt(e: Ref, i: number): Ref };
  Const: { getValueI32(e: Ref): number };
  Block: { getNumChildren(e: Ref): number; getChildAt(e: Ref, i: number): Ref; setChildAt(e: Ref, i: number, child: Ref): void };
  Loop: { getBody(e: Ref): Ref; setBody(e: Ref, body: Ref): void; getName(e: Ref): string | null; setName(e: Ref, name: string): void; getType(e: Ref): number };
}
const api = (b: Binaryen): ExpressionApi => b as unknown as ExpressionApi;

/** Getters returning child expressions, by expression class. */
export const CHILDREN: Record<string, string[]> = {
  Block: ["getChildren"],
  If: ["getCondition", "getIfTrue", "getIfFalse"],
  Loop: ["getBody"],
  Break: ["getCondition", "getValue"],
  Switch: ["getCondition", "getValue"],
  Call: ["getOperands"],
  CallIndirect: ["getTarget", "getOperands"],
  CallRef: ["getOperands", "getTarget"],
  LocalSet: ["getValue"],
  GlobalSet: ["getValue"],
  TableGet: ["getIndex"],
  TableSet: ["getIndex", "getValue"],
  TableGrow: ["getValue", "getDelta"],
  MemoryGrow: ["getDelta"],
  Load: ["getPtr"],
  Store: ["getPtr", "getValue"],
  Unary: ["getValue"],
  Binary: ["getLeft", "getRight"],
  Select: ["getIfTrue", "getIfFalse", "getCondition"],
  Drop: ["getValue"],
  Return: ["getValue"],
  AtomicRMW: ["getPtr", "getValue"],
  AtomicCmpxchg: ["getPtr", "getExpected", "getReplacement"],
  AtomicWait: ["getPtr", "getExpected", "getTimeout"],
  AtomicNotify: ["getPtr", "getNotifyCount"],
  SIMDExtract: ["getVec"],
  SIMDReplace: ["getVec", "getValue"],
  SIMDShuffle: ["getLeft", "getRight"],
  SIMDTernary: ["getA", "getB", "getC"],
  SIMDShift: ["getVec", "getShift"],
  SIMDLoad: ["getPtr"],
  SIMDLoadStoreLane: ["getPtr", "getVec"],
  MemoryInit: ["getDest", "getOffset", "getSize"],
  MemoryCopy: ["getDest", "getSource", "getSize"],
  MemoryFill: ["getDest", "getValue", "getSize"],
  RefIsNull: ["getValue"],
  RefAs: ["getValue"],
  RefEq: ["getLeft", "getRight"],
  Try: ["getBody", "getCatchBodies"],
  Throw: ["getOperands"],
  TupleMake: ["getOperands"],
  TupleExtract: ["getTuple"],
};

/** Expression kinds without children (a function made of these and CHILDREN's, minus calls, is a leaf). */
export const CHILDLESS = ["Const", "LocalGet", "GlobalGet", "Nop", "Unreachable", "MemorySize", "Pop", "RefNull", "RefFunc", "DataDrop", "TableSize", "AtomicFence"];

interface Mark {
  id: number;
  /** The block holding the mark, and its index there. */
  block: Ref;
  index: number;
  kind: "loop" | "entry" | "return";
  loop?: Ref;
}

/** The child getters of each expression kind in `table` (default: every kind the walk knows), by expression id. */
export function childGetters(b: Binaryen, table: Record<string, readonly string[]> = CHILDREN): Map<number, ((e: Ref) => unknown)[]> {
  const byId = new Map<number, ((e: Ref) => unknown)[]>();
  const api = b as unknown as Record<string, unknown>;
  for (const [cls, getters] of Object.entries(table)) {
    const klass = api[cls] as Record<string, (e: Ref) => unknown> | undefined;
    const id = api[`${cls}Id`];
    if (!klass || typeof id !== "number") continue;
    byId.set(id, getters.filter((g) => typeof klass[g] === "function").map((g) => klass[g]!.bind(klass)));
  }
  return byId;
}

type BlockKind = "function" | "loop" | "other";

/** Rewrites the marks; false when some could not be found (nothing is changed then). */
export function rewriteFuelIR(b: Binaryen, m: BinaryenModule, markName: string, functions: string[]): boolean {
  const getters = childGetters(b);
  const x = api(b);
  const { BlockId, LoopId, CallId, ConstId, CallIndirectId, CallRefId } = b;
  const exprId = (e: Ref): number => x._BinaryenExpressionGetId(e);
  let count = 0;
  let maxId = -1;
  const seen = new Set<number>();
  const perFunction = new Map<string, Mark[]>();

  // expressions with no children: the only ones a leaf may hold besides those in CHILDREN
  const childless = new Set(CHILDLESS.map((k) => (b as unknown as Record<string, unknown>)[`${k}Id`]).filter((v) => typeof v === "number"));
  const leaves = new Set<string>();

  for (const name of functions) {
    const found: Mark[] = [];
    let leaf = true;
    // [expression, its parent block (0: none), index there, the parent block's kind, the loop
    //  whose body the parent block is, this expression's kind if it is a block, its loop]
    type Item = [Ref, Ref, number, BlockKind, Ref, BlockKind, Ref];
    const stack: Item[] = [[x.Function.getBody(m.getFunction(name)), 0, -1, "other", 0, "function", 0]];
    while (stack.length > 0) {
      const [e, parent, index, parentKind, parentLoop, selfKind, selfLoop] = stack.pop()!;
      if (!e) continue;
      const id = exprId(e);
      if (id === CallId ? x.Call.getTarget(e) !== markName : id === CallIndirectId || id === CallRefId || !(getters.has(id) || childless.has(id))) leaf = false;
      if (id === CallId && x.Call.getTarget(e) === markName) {
        const arg = x.Call.getOperandAt(e, 0);
        const markId = exprId(arg) === ConstId ? x.Const.getValueI32(arg) : -1;
        if (!parent || markId < 0 || seen.has(markId)) return false;
        seen.add(markId);
        maxId = Math.max(maxId, markId);
        const kind = index === 0 && parentKind === "loop" ? "loop" : index === 0 && parentKind === "function" ? "entry" : "return";
        found.push({ id: markId, block: parent, index, kind, ...(kind === "loop" ? { loop: parentLoop } : {}) });
        continue;
      }
      if (id === BlockId) {
        const n = x.Block.getNumChildren(e);
        for (let i = n - 1; i >= 0; i--) stack.push([x.Block.getChildAt(e, i), e, i, selfKind, selfLoop, "other", 0]);
        continue;
      }
      if (id === LoopId) {
        stack.push([x.Loop.getBody(e), 0, -1, "other", 0, "loop", e]);
        continue;
      }
      for (const g of getters.get(id) ?? []) {
        const v = g(e);
        if (Array.isArray(v)) for (const c of v as Ref[]) stack.push([c, 0, -1, "other", 0, "other", 0]);
        else if (typeof v === "number" && v) stack.push([v, 0, -1, "other", 0, "other", 0]);
      }
    }
    if (leaf && !found.some((f) => f.kind === "loop")) leaves.add(name);
    perFunction.set(name, found);
    count += found.length;
  }
  // every mark id 0..max seen once: the walk reached every loop
  if (count !== maxId + 1) return false;

  const i32 = b.i32;
  let n = 0;
  for (const [name, found] of perFunction) {
    if (leaves.has(name)) {
      for (const mark of found) x.Block.setChildAt(mark.block, mark.index, m.nop());
      continue;
    }
    if (found.length === 0) continue;
    const wf = x._BinaryenFunctionAddVar(m.getFunction(name), i32);
    for (const mark of found) {
      if (mark.kind === "entry") x.Block.setChildAt(mark.block, mark.index, m.local.set(wf, m.call("__wippy_fuel_entry", [], i32)));
      else if (mark.kind === "return") x.Block.setChildAt(mark.block, mark.index, m.nop());
      else retryAround(b, m, mark, wf, n++);
    }
  }
  return true;
}

/** Turns the marked loop into `retry` around a copy of itself (see the top of the file). */
function retryAround(b: Binaryen, m: BinaryenModule, mark: Mark, wf: number, k: number): void {
  const x = api(b);
  const i32 = b.i32;
  const loop = mark.loop!;
  const type = x.Loop.getType(loop);
  const label = x.Loop.getName(loop) || `__wippy_loop_${k}`;
  const exit = `__wippy_exit_${k}`;
  const refill = `__wippy_refill_${k}`;
  const retry = `__wippy_retry_${k}`;
  // where the mark was: wf -= 1; if (wf < 0) leave for the refill
  const countdown = m.i32.sub(m.local.get(wf, i32), m.i32.const(1));
  x.Block.setChildAt(mark.block, mark.index, m.br(refill, m.i32.lt_s(m.local.tee(wf, countdown, i32), m.i32.const(0))));
  const inner = m.loop(label, x.Loop.getBody(loop));
  const refillAndRetry = [m.local.set(wf, m.call("__wippy_refill", [], i32)), m.br(retry)];
  let body: Ref;
  if (type === b.unreachable) {
    body = m.block(null, [m.block(refill, [inner]), ...refillAndRetry]); // never ends: no way out
  } else if (type === b.none) {
    body = m.block(exit, [m.block(refill, [inner, m.br(exit)]), ...refillAndRetry], b.none);
  } else {
    body = m.block(exit, [m.block(refill, [m.br(exit, 0, inner)]), ...refillAndRetry], type);
  }
  x.Loop.setName(loop, retry);
  x.Loop.setBody(loop, body);
}
