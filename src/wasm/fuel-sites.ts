// Rewrites binaryen's `log-execution` marks (in the module's text form) into fuel
// counting. A mark is a call `(call $mark (i32.const id))` printed on three lines:
// - first thing in a loop → count down a local; refill from the host when it runs out;
// - first thing in a function → count down the global, and load the local from it;
// - before a return → dropped (entries and loops already bound the work).
// The imports, the global and the two helper functions are added here too, since the
// text must parse as a whole.

const LOCAL = "$__wippy_wf";

const depth = (s: string): number => s.split("(").length - s.split(")").length;

export function rewriteFuelSites(text: string, markModule: string): string {
  const lines = text.split("\n");
  const importAt = lines.findIndex((l) => l.trimStart().startsWith(`(import "${markModule}" `));
  if (importAt < 0) return text; // no functions: nothing to count
  const mark = /\(func (\$\S+)/.exec(lines[importAt]!)?.[1];
  if (!mark) throw new Error(`cannot read the fuel mark import: ${lines[importAt]}`);
  lines[importAt] = [
    ` (import "wippy" "yield_async" (func $__wippy_yield_async (result i32)))`,
    ` (import "wippy" "yield_sync" (func $__wippy_yield_sync (result i32)))`,
    ` (import "wippy" "state" (global $__wippy_state (mut i32)))`,
  ].join("\n");

  const out: string[] = [];
  let loops = 0;
  let marked = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t.startsWith("(func ") && depth(t) > 0) {
      out.push(line, `  (local ${LOCAL} i32)`);
      continue;
    }
    if (t.startsWith("(loop")) loops++;
    if (t === `(call ${mark}` && /^\(i32\.const \d+\)$/.test(lines[i + 1]?.trim() ?? "") && lines[i + 2]?.trim() === ")") {
      const prev = out[out.length - 1]!.trim();
      i += 2;
      marked++;
      if (prev.startsWith("(loop")) {
        out.push(`(local.set ${LOCAL} (i32.sub (local.get ${LOCAL}) (i32.const 1)))`,
          `(if (i32.lt_s (local.get ${LOCAL}) (i32.const 0)) (then (local.set ${LOCAL} (call $__wippy_refill))))`);
        loops--;
      } else if (prev.startsWith("(local ") || prev.startsWith("(func ")) {
        out.push(`(local.set ${LOCAL} (call $__wippy_fuel_entry))`);
      } else {
        out.push("(nop)");
      }
      continue;
    }
    out.push(line);
  }
  const calls = text.split(`(call ${mark}\n`).length - 1;
  if (calls !== marked || loops !== 0) {
    throw new Error(`fuel instrumentation: ${calls - marked} marks and ${loops} loops not rewritten`);
  }
  const end = out.lastIndexOf(")");
  out.splice(end, 0,
    ` (global $__wippy_fuel (mut i32) (i32.const 0))`,
    ` (func $__wippy_refill (result i32)`,
    `  (global.set $__wippy_fuel (if (result i32) (i32.eq (global.get $__wippy_state) (i32.const 1))`, // 1: STATE_ENTRY
    `   (then (call $__wippy_yield_async)) (else (call $__wippy_yield_sync))))`,
    `  (global.get $__wippy_fuel))`,
    ` (func $__wippy_fuel_entry (result i32)`,
    `  (global.set $__wippy_fuel (i32.sub (global.get $__wippy_fuel) (i32.const 1)))`,
    `  (if (i32.lt_s (global.get $__wippy_fuel) (i32.const 0)) (then (drop (call $__wippy_refill))))`,
    `  (global.get $__wippy_fuel))`,
  );
  return out.join("\n");
}
