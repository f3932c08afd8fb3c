// The prefix tree's bookkeeping, against a brute-force model of what it should hold: every
// match is the longest prefix of any inserted (and not evicted) sequence, its pieces carry
// exactly the payload of those positions, and eviction keeps the byte budget, oldest first.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PrefixTree, type TreePayload } from '../../../server/engine/prefixTree';

/** A payload that remembers which (position, token) pairs it holds, 8 bytes per position. */
class Rows implements TreePayload<Rows> {
  constructor(readonly rows: Array<[number, number]>) {}
  get length(): number {
    return this.rows.length;
  }
  get bytes(): number {
    return this.rows.length * 8;
  }
  slice(from: number, to: number): Rows {
    return new Rows(this.rows.slice(from, to));
  }
}

const rowsOf = (ids: number[]) => (from: number, to: number) => new Rows(ids.slice(from, to).map((id, i) => [from + i, id]));

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function longestHeld(held: number[][], ids: number[]): number {
  let best = 0;
  for (const seq of held) {
    let n = 0;
    while (n < seq.length && n < ids.length && seq[n] === ids[n]) n++;
    best = Math.max(best, n);
  }
  return best;
}

test('matches are the longest held prefix, with the payload of exactly those positions', () => {
  const next = random(7);
  const tree = new PrefixTree<Rows>();
  const held: number[][] = [];
  // Sequences over a 3-token alphabet share prefixes often and diverge mid-edge.
  const make = () => {
    const base = held.length > 0 && next() < 0.7 ? held[Math.floor(next() * held.length)] : [];
    const keep = Math.floor(next() * (base.length + 1));
    return [...base.slice(0, keep), ...Array.from({ length: 1 + Math.floor(next() * 12) }, () => Math.floor(next() * 3))];
  };
  for (let round = 0; round < 300; round++) {
    const ids = make();
    const probe = make();
    const match = tree.match(probe);
    assert.equal(match.length, longestHeld(held, probe), `round ${round}: match length`);
    const covered = match.pieces.flatMap((p) => p.payload.rows.slice(p.from, p.to));
    assert.deepEqual(covered, probe.slice(0, match.length).map((id, i) => [i, id]), `round ${round}: payload of the match`);
    const added = tree.insert(ids, ids.length, rowsOf(ids));
    assert.equal(added, ids.length - longestHeld(held, ids), `round ${round}: tokens added`);
    held.push(ids);
    assert.equal(tree.bytes, tree.tokens * 8);
  }
  assert.equal(tree.match([...held[5], 99], held[5].length).length, held[5].length, 'a limit bounds the match');
});

test('eviction keeps the budget and drops the least recently used branches first', () => {
  const tree = new PrefixTree<Rows>();
  const shared = [1, 2, 3, 4, 5, 6, 7, 8];
  const a = [...shared, 10, 11, 12, 13];
  const b = [...shared, 20, 21, 22, 23];
  const c = [...shared, 30, 31, 32, 33];
  for (const ids of [a, b, c]) tree.insert(ids, ids.length, rowsOf(ids));
  assert.equal(tree.tokens, 8 + 3 * 4);
  assert.equal(tree.nodeCount, 4);
  tree.match(a); // a is now the most recent, b the least
  assert.equal(tree.evict(tree.bytes - 1), 4 * 8, 'one leaf goes');
  assert.equal(tree.match(b).length, 8, 'b was the least recently used');
  assert.equal(tree.match(a).length, a.length);
  assert.equal(tree.match(c).length, c.length);
  tree.match(a);
  tree.evict(12 * 8); // room for the shared prefix and one leaf
  assert.equal(tree.match(a).length, a.length, 'the most recent path stays');
  assert.equal(tree.match(c).length, 8);
  assert.equal(tree.evict(0), 12 * 8, 'a parent goes after its last child');
  assert.equal(tree.nodeCount, 0);
  assert.equal(tree.match(a).length, 0);
});

test('an insert that ends inside an edge adds nothing; one that diverges inside it splits it', () => {
  const tree = new PrefixTree<Rows>();
  const ids = [5, 6, 7, 8, 9];
  tree.insert(ids, ids.length, rowsOf(ids));
  assert.equal(tree.insert(ids, 3, () => assert.fail('nothing to add')), 0);
  assert.equal(tree.nodeCount, 1);
  const other = [5, 6, 1, 2];
  assert.equal(tree.insert(other, other.length, rowsOf(other)), 2);
  assert.equal(tree.nodeCount, 3);
  const match = tree.match(other);
  assert.deepEqual(match.pieces.map((p) => [p.start, p.to]), [[0, 2], [2, 2]]);
  assert.throws(() => tree.insert([7], 1, () => new Rows([])), /payload of 0 positions/);
});
