// Persistent (immutable, structurally shared) collections for a supervisor's
// context: an update copies only the path to the changed slot, so an EXIT among
// 10 000 children costs O(log n) instead of copying every record.
//
// - Vec: a 32-way trie indexed 0..size-1 (children in start order, by key);
// - HashMap: a hash array mapped trie keyed by string or number (pid → key);
// - Stack: a linked list (the stop queue, latest started on top).

const BITS = 5;
const WIDTH = 1 << BITS;
const MASK = WIDTH - 1;

type VecNode = readonly unknown[];

/** An immutable vector; `set` and `push` return a new one sharing all but one path. */
export class Vec<T> {
  readonly size: number;
  readonly #shift: number;
  readonly #root: VecNode;

  private constructor(size: number, shift: number, root: VecNode) {
    this.size = size;
    this.#shift = shift;
    this.#root = root;
  }

  static empty<T>(): Vec<T> {
    return new Vec<T>(0, 0, []);
  }

  static from<T>(items: readonly T[]): Vec<T> {
    let v = Vec.empty<T>();
    for (const item of items) v = v.push(item);
    return v;
  }

  get(index: number): T | undefined {
    if (index < 0 || index >= this.size) return undefined;
    let node = this.#root;
    for (let s = this.#shift; s > 0; s -= BITS) node = node[(index >>> s) & MASK] as VecNode;
    return node[index & MASK] as T;
  }

  set(index: number, value: T): Vec<T> {
    if (index < 0 || index >= this.size) throw new RangeError(`Vec.set: index ${index} outside 0..${this.size - 1}`);
    return new Vec(this.size, this.#shift, setIn(this.#root, this.#shift, index, value));
  }

  push(value: T): Vec<T> {
    let root = this.#root;
    let shift = this.#shift;
    if (this.size === WIDTH << shift) {
      root = [root];
      shift += BITS;
    }
    return new Vec(this.size + 1, shift, setIn(root, shift, this.size, value));
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.get(i) as T;
  }

  toJSON(): T[] {
    return [...this];
  }
}

function setIn(node: VecNode, shift: number, index: number, value: unknown): VecNode {
  const copy = node.slice();
  if (shift === 0) copy[index & MASK] = value;
  else {
    const at = (index >>> shift) & MASK;
    copy[at] = setIn((node[at] as VecNode | undefined) ?? [], shift - BITS, index, value);
  }
  return copy;
}

type Key = string | number;
// Every node carries `tag` first, so telling them apart is one monomorphic property read.
const LEAF = 0;
const COLLISION = 1;
const BRANCH = 2;
interface Leaf<K, V> {
  readonly tag: typeof LEAF;
  readonly hash: number;
  readonly key: K;
  readonly value: V;
}
/** Entries whose keys hash alike. */
interface Collision<K, V> {
  readonly tag: typeof COLLISION;
  readonly hash: number;
  readonly leaves: readonly Leaf<K, V>[];
}
interface Branch<K, V> {
  readonly tag: typeof BRANCH;
  readonly bitmap: number;
  readonly slots: readonly Slot<K, V>[];
}
type Slot<K, V> = Leaf<K, V> | Collision<K, V> | Branch<K, V>;

const isBranch = <K, V>(s: Slot<K, V>): s is Branch<K, V> => s.tag === BRANCH;
const isCollision = <K, V>(s: Slot<K, V>): s is Collision<K, V> => s.tag === COLLISION;
const branch = <K, V>(bitmap: number, slots: readonly Slot<K, V>[]): Branch<K, V> => ({ tag: BRANCH, bitmap, slots });

function hashOf(key: Key): number {
  if (typeof key === "number") return Math.imul(key | 0, 0x9e3779b1) >>> 0;
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

const EMPTY_BRANCH: Branch<never, never> = branch(0, []);

/** An immutable hash map; `set` and `delete` return a new one. */
export class HashMap<K extends Key, V> {
  readonly size: number;
  readonly #root: Branch<K, V>;

  private constructor(size: number, root: Branch<K, V>) {
    this.size = size;
    this.#root = root;
  }

  static empty<K extends Key, V>(): HashMap<K, V> {
    return new HashMap<K, V>(0, EMPTY_BRANCH);
  }

  get(key: K): V | undefined {
    const hash = hashOf(key);
    let node: Branch<K, V> = this.#root;
    for (let shift = 0; ; shift += BITS) {
      const bit = 1 << ((hash >>> shift) & MASK);
      if ((node.bitmap & bit) === 0) return undefined;
      const slot = node.slots[popcount(node.bitmap & (bit - 1))]!;
      if (isBranch(slot)) {
        node = slot;
        continue;
      }
      if (isCollision(slot)) return slot.leaves.find((l) => l.key === key)?.value;
      return slot.key === key ? slot.value : undefined;
    }
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  set(key: K, value: V): HashMap<K, V> {
    const leaf: Leaf<K, V> = { tag: LEAF, hash: hashOf(key), key, value };
    const { node, added } = insert(this.#root, 0, leaf);
    return new HashMap(this.size + (added ? 1 : 0), node);
  }

  delete(key: K): HashMap<K, V> {
    const node = remove(this.#root, 0, hashOf(key), key);
    if (node === undefined) return this;
    return new HashMap(this.size - 1, node ?? EMPTY_BRANCH);
  }

  *entries(): IterableIterator<[K, V]> {
    const stack: Slot<K, V>[] = [this.#root];
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (isBranch(s)) stack.push(...s.slots);
      else if (isCollision(s)) for (const l of s.leaves) yield [l.key, l.value];
      else yield [s.key, s.value];
    }
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  toJSON(): Record<string, V> {
    return Object.fromEntries(this.entries());
  }
}

function insert<K, V>(node: Branch<K, V>, shift: number, leaf: Leaf<K, V>): { node: Branch<K, V>; added: boolean } {
  const bit = 1 << ((leaf.hash >>> shift) & MASK);
  const at = popcount(node.bitmap & (bit - 1));
  if ((node.bitmap & bit) === 0) {
    const slots = node.slots.slice();
    slots.splice(at, 0, leaf);
    return { node: branch(node.bitmap | bit, slots), added: true };
  }
  const slot = node.slots[at]!;
  let next: Slot<K, V>;
  let added = true;
  if (isBranch(slot)) ({ node: next, added } = insert(slot, shift + BITS, leaf));
  else if (slot.hash === leaf.hash) {
    const leaves = isCollision(slot) ? slot.leaves : [slot];
    const i = leaves.findIndex((l) => l.key === leaf.key);
    added = i < 0;
    const merged = added ? [...leaves, leaf] : leaves.map((l, j) => (j === i ? leaf : l));
    next = merged.length === 1 ? merged[0]! : { tag: COLLISION, hash: leaf.hash, leaves: merged };
  } else next = split(slot, leaf, shift + BITS);
  const slots = node.slots.slice();
  slots[at] = next;
  return { node: branch(node.bitmap, slots), added };
}

/** A branch holding two slots whose hashes differ (they differ somewhere in 32 bits, so this ends by shift 30). */
function split<K, V>(a: Leaf<K, V> | Collision<K, V>, b: Leaf<K, V>, shift: number): Branch<K, V> {
  const ia = (a.hash >>> shift) & MASK;
  const ib = (b.hash >>> shift) & MASK;
  if (ia === ib) return branch(1 << ia, [split(a, b, shift + BITS)]);
  return branch((1 << ia) | (1 << ib), ia < ib ? [a, b] : [b, a]);
}

/** The branch without `key`: undefined when the key is absent, null when the branch became empty. */
function remove<K, V>(node: Branch<K, V>, shift: number, hash: number, key: K): Branch<K, V> | null | undefined {
  const bit = 1 << ((hash >>> shift) & MASK);
  if ((node.bitmap & bit) === 0) return undefined;
  const at = popcount(node.bitmap & (bit - 1));
  const slot = node.slots[at]!;
  let next: Slot<K, V> | null;
  if (isBranch(slot)) {
    const r = remove(slot, shift + BITS, hash, key);
    if (r === undefined) return undefined;
    next = r;
  } else if (isCollision(slot)) {
    if (!slot.leaves.some((l) => l.key === key)) return undefined;
    const leaves = slot.leaves.filter((l) => l.key !== key);
    next = leaves.length === 1 ? leaves[0]! : { tag: COLLISION, hash: slot.hash, leaves };
  } else {
    if (slot.key !== key) return undefined;
    next = null;
  }
  const slots = node.slots.slice();
  if (next !== null) {
    slots[at] = next;
    return branch(node.bitmap, slots);
  }
  slots.splice(at, 1);
  const bitmap = node.bitmap & ~bit;
  return bitmap === 0 ? null : branch(bitmap, slots);
}

/** An immutable stack: `null` is empty. */
export type Stack<T> = { readonly top: T; readonly rest: Stack<T> } | null;

export const push = <T>(stack: Stack<T>, top: T): Stack<T> => ({ top, rest: stack });
