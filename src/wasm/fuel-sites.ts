// Rewrites binaryen's `log-execution` marks (in the module's text form) into fuel
// counting. A mark is a call `(call $mark (i32.const id))` printed on three lines:
// - first thing in a loop → count down a local (a register) and, when it runs out,
//   branch out of the loop to refill it from the host, then enter the loop again;
// - first thing in a function → count down the global, and load the local from it;
//   in a leaf (no call, no loop: it ends in a bounded number of steps) → dropped;
// - before a return → dropped (entries and loops already bound the work).
// The refill sits outside the loop on purpose: a call inside a hot loop costs V8 its
// register allocation (measured: sieve 1.35× with the call inside, 1.05× without).
// Re-entering a loop from the top is what `br $loop` does, so the loop runs on as if
// it had not been left. binaryen prints one expression per line, indented one space per
// level, with its closing paren alone at the same indentation; that is what we rely on.

const LOCAL = "$__wippy_wf";

const depth = (s: string): number => s.split("(").length - s.split(")").length;
const indentOf = (s: string): number => s.length - s.trimStart().length;

interface LoopSite {
  /** Line of the loop's closing paren. */
  close: number;
  id: number;
  typed: boolean;
}

/** Finds every loop, its closing line and whether it yields a value. */
function findLoops(lines: string[]): Map<number, LoopSite> {
  const loops = new Map<number, LoopSite>();
  let id = 0;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (!t.startsWith("(loop")) continue;
    const closing = " ".repeat(indentOf(lines[i]!)) + ")";
    let j = i + 1;
    while (j < lines.length && lines[j] !== closing) j++;
    if (j >= lines.length) throw new Error(`fuel instrumentation: cannot find the end of the loop at line ${i + 1}`);
    loops.set(i, { close: j, id: id++, typed: /\(result /.test(t) });
  }
  return loops;
}

function loopResult(line: string): string {
  const m = /\(result [^)]*\)/.exec(line);
  return m ? ` ${m[0]}` : "";
}

/** The function opening at line `at` calls nothing and has no loop (fuel-ir.ts: leaves). */
function isLeaf(lines: string[], at: number, mark: string): boolean {
  const closing = " ".repeat(indentOf(lines[at]!)) + ")";
  for (let j = at + 1; j < lines.length && lines[j] !== closing; j++) {
    const t = lines[j]!.trim();
    if (t.startsWith("(loop") || (/^\((return_)?call(_indirect|_ref)?\b/.test(t) && t !== `(call ${mark}`)) return false;
  }
  return true;
}

export function rewriteFuelSites(text: string, markModule: string): string {
  const lines = text.split("\n");
  const importAt = lines.findIndex((l) => l.trimStart().startsWith(`(import "${markModule}" `));
  if (importAt < 0) return text; // no functions: nothing to count
  const mark = /\(func (\$\S+)/.exec(lines[importAt]!)?.[1];
  if (!mark) throw new Error(`cannot read the fuel mark import: ${lines[importAt]}`);
  lines[importAt] = [
    ` (import "${markModule}" "refill" (func $__wippy_refill (result i32)))`,
    ` (import "${markModule}" "entry" (func $__wippy_fuel_entry (result i32)))`,
  ].join("\n");

  const loops = findLoops(lines);
  const closers = new Map<number, string[]>();
  for (const [, site] of loops) {
    const n = site.id;
    const tail = [
      ...(site.typed ? [")"] : [`(br $__wippy_after_${n})`]), // the loop ended: leave with its value
      ")", // block $refill
      `(local.set ${LOCAL} (call $__wippy_refill))`,
      `(br $__wippy_retry_${n})`,
      ")", // loop $retry
      ")", // block $after
    ];
    closers.set(site.close, [...(closers.get(site.close) ?? []), ...tail]);
  }

  const out: string[] = [];
  let marked = 0;
  let loopMarks = 0;
  let open: LoopSite | undefined;
  let leaf = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const t = line.trim();
    if (t.startsWith("(func ") && depth(t) > 0) {
      leaf = isLeaf(lines, i, mark);
      out.push(line, `  (local ${LOCAL} i32)`);
      continue;
    }
    const site = loops.get(i);
    if (site) {
      const n = site.id;
      const result = loopResult(t);
      out.push(`(block $__wippy_after_${n}${result}`, `(loop $__wippy_retry_${n}${result}`, `(block $__wippy_refill_${n}`);
      if (site.typed) out.push(`(br $__wippy_after_${n}`);
      out.push(line);
      open = site;
      const tail = closers.get(i);
      if (tail) out.push(...tail);
      continue;
    }
    if (t === `(call ${mark}` && /^\(i32\.const \d+\)$/.test(lines[i + 1]?.trim() ?? "") && lines[i + 2]?.trim() === ")") {
      i += 2;
      marked++;
      if (open && lines[i - 3] === out[out.length - 1] && out[out.length - 1]!.trim().startsWith("(loop")) {
        out.push(`(br_if $__wippy_refill_${open.id} (i32.lt_s (local.tee ${LOCAL} (i32.sub (local.get ${LOCAL}) (i32.const 1))) (i32.const 0)))`);
        loopMarks++;
      } else if (/^\((local |func )/.test(out[out.length - 1]!.trim())) {
        out.push(leaf ? "(nop)" : `(local.set ${LOCAL} (call $__wippy_fuel_entry))`);
      } else {
        out.push("(nop)");
      }
      open = undefined;
      continue;
    }
    open = undefined;
    out.push(line);
    const tail = closers.get(i);
    if (tail) out.push(...tail);
  }
  const calls = text.split(`(call ${mark}\n`).length - 1;
  if (calls !== marked || loopMarks !== loops.size) {
    throw new Error(`fuel instrumentation: ${calls - marked} marks and ${loops.size - loopMarks} loops not rewritten`);
  }
  return out.join("\n");
}
