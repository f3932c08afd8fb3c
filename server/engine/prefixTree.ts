// A radix tree over token ids whose nodes own the KV of their tokens: the bookkeeping of the
// prefix cache, with no tensors in it (the payload is opaque: a KvSegment in the engine, a
// plain record in tests). Prompts that share a prefix (the workspace files before the active
// file) share its nodes, so completions in two files and a question all find it here.
//
// A node's edge is a run of token ids at absolute positions [start, start + tokens.length);
// its payload holds exactly those positions. Children are keyed by their first token.
// Least recently used leaves go first when the tree is over its byte budget.

export interface TreePayload<T> {
  readonly length: number;
  readonly bytes: number;
  /** A copy of offsets [from, to) of this payload. */
  slice(from: number, to: number): T;
}

interface TreeNode<T> {
  tokens: number[];
  payload: T | undefined; // undefined only at the root
  start: number; // absolute position of tokens[0]
  parent: TreeNode<T> | undefined;
  children: Map<number, TreeNode<T>>;
  lastUsed: number;
}

/** A part of a matched path: positions [from, to) of one node's payload, whose first position is `start`. */
export interface PathPiece<T> {
  payload: T;
  start: number;
  from: number;
  to: number;
}

export class PrefixTree<T extends TreePayload<T>> {
  private readonly root: TreeNode<T> = { tokens: [], payload: undefined, start: 0, parent: undefined, children: new Map(), lastUsed: 0 };
  private clock = 0;
  private heldBytes = 0;
  private heldTokens = 0;
  private nodes = 0;

  /** Bytes of every payload in the tree. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Tokens held, counting each node's edge once (shared prefixes once). */
  get tokens(): number {
    return this.heldTokens;
  }

  get nodeCount(): number {
    return this.nodes;
  }

  /**
   * The longest prefix of ids[0, limit) the tree holds, as the pieces of node payloads that
   * cover it in order. Marks the path as just used.
   */
  match(ids: ArrayLike<number>, limit = ids.length): { length: number; pieces: PathPiece<T>[] } {
    const now = ++this.clock;
    const pieces: PathPiece<T>[] = [];
    let node = this.root;
    let at = 0;
    while (at < limit) {
      const child = node.children.get(ids[at]);
      if (!child) break;
      const common = commonLength(child.tokens, ids, at, limit);
      child.lastUsed = now;
      pieces.push({ payload: child.payload!, start: child.start, from: 0, to: common });
      at += common;
      if (common < child.tokens.length) break;
      node = child;
    }
    return { length: at, pieces };
  }

  /**
   * Makes the tree hold ids[0, length): the part it lacks gets its payload from
   * `payloadOf(from, to)` (absolute positions). An edge that diverges part-way is split.
   * Returns the number of tokens added.
   */
  insert(ids: ArrayLike<number>, length: number, payloadOf: (from: number, to: number) => T): number {
    const now = ++this.clock;
    let node = this.root;
    let at = 0;
    while (at < length) {
      const child = node.children.get(ids[at]);
      if (!child) break;
      const common = commonLength(child.tokens, ids, at, length);
      child.lastUsed = now;
      if (common < child.tokens.length) {
        if (at + common === length) return 0; // ids end inside this edge: held already
        node = this.split(child, common);
        at += common;
        break;
      }
      node = child;
      at += common;
    }
    if (at >= length) return 0;
    const payload = payloadOf(at, length);
    if (payload.length !== length - at) throw new Error(`prefix tree: payload of ${payload.length} positions for ${length - at} tokens`);
    const leaf: TreeNode<T> = { tokens: Array.from({ length: length - at }, (_, i) => ids[at + i]), payload, start: at, parent: node, children: new Map(), lastUsed: now };
    node.children.set(leaf.tokens[0], leaf);
    this.account(leaf, 1);
    return length - at;
  }

  /** Splits `node` after its first `keep` tokens; returns the new upper node. */
  private split(node: TreeNode<T>, keep: number): TreeNode<T> {
    const parent = node.parent!;
    const payload = node.payload!;
    const upper: TreeNode<T> = {
      tokens: node.tokens.slice(0, keep),
      payload: payload.slice(0, keep),
      start: node.start,
      parent,
      children: new Map(),
      lastUsed: node.lastUsed,
    };
    this.account(node, -1);
    node.tokens = node.tokens.slice(keep);
    node.payload = payload.slice(keep, payload.length);
    node.start += keep;
    node.parent = upper;
    upper.children.set(node.tokens[0], node);
    parent.children.set(upper.tokens[0], upper);
    this.account(upper, 1);
    this.account(node, 1);
    return upper;
  }

  /**
   * Drops least recently used leaves (a parent whose last child went becomes a leaf in
   * turn) until the payloads fit in `budgetBytes`. Returns the bytes freed.
   */
  evict(budgetBytes: number): number {
    if (this.heldBytes <= budgetBytes) return 0;
    const before = this.heldBytes;
    const leaves: TreeNode<T>[] = [];
    const visit = (node: TreeNode<T>) => {
      for (const child of node.children.values()) {
        if (child.children.size === 0) leaves.push(child);
        else visit(child);
      }
    };
    visit(this.root);
    // A small binary heap on lastUsed: parents join as their last child leaves.
    const heap = new MinHeap<TreeNode<T>>((a, b) => a.lastUsed - b.lastUsed);
    for (const leaf of leaves) heap.push(leaf);
    while (this.heldBytes > budgetBytes && heap.size > 0) {
      const leaf = heap.pop()!;
      const parent = leaf.parent!;
      parent.children.delete(leaf.tokens[0]);
      this.account(leaf, -1);
      if (parent !== this.root && parent.children.size === 0) heap.push(parent);
    }
    return before - this.heldBytes;
  }

  private account(node: TreeNode<T>, sign: 1 | -1): void {
    this.heldBytes += sign * node.payload!.bytes;
    this.heldTokens += sign * node.tokens.length;
    this.nodes += sign;
  }
}

/** How many of edge[0, …) equal ids[at, limit). */
function commonLength(edge: number[], ids: ArrayLike<number>, at: number, limit: number): number {
  const n = Math.min(edge.length, limit - at);
  let i = 0;
  while (i < n && edge[i] === ids[at + i]) i++;
  return i;
}

class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (this.less(items[i], items[up]) >= 0) break;
      [items[i], items[up]] = [items[up], items[i]];
      i = up;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0];
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && this.less(items[l], items[best]) < 0) best = l;
        if (r < items.length && this.less(items[r], items[best]) < 0) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best], items[i]];
        i = best;
      }
    }
    return top;
  }
}
