// Evidence's lines: the mapping from prompt positions to (text part, line) with CRLF,
// multi-byte text, cut and reused parts, and the ranking of lines by summed mass.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadModel } from '../../../server/engine/loadModel';
import { loadTokenizer } from '../../../server/engine/tokenizer';
import { defaultSinkPositions } from '../../../server/engine/evidence';
import { addLineSums, lineScores, positionLines, type PositionLines } from '../../../server/engine/evidenceLines';
import { tokenizePrompt, type PartTokens } from '../../../server/engine/promptTokens';
import type { PromptParts } from '../../../server/worker/messages';
import { tinyModelDir } from './engineFixtures';
import { seededRandom } from '../../../server/engine/sampling';

const repoRoot = join(__dirname, '..', '..', '..', '..'); // out/test/unit/engine → the repository
/** Each position's part and line (-1 and 0 on no part) from PositionLines' runs. */
function atPositions({ lines, runs }: PositionLines, length: number): { part: Int32Array; line: Int32Array } {
  const part = new Int32Array(length).fill(-1);
  const line = new Int32Array(length);
  for (let r = 0; r < runs.length; r += 3) {
    part.fill(lines[runs[r + 2]].part, runs[r], runs[r + 1]);
    line.fill(lines[runs[r + 2]].line, runs[r], runs[r + 1]);
  }
  return { part, line };
}

/** PositionLines' runs from a per-position index into its lines (-1: no line): [start, end, index] per maximal run. */
function lineRuns(index: Int32Array): Int32Array {
  const runs: number[] = [];
  for (let p = 0; p < index.length; ) {
    let end = p + 1;
    while (end < index.length && index[end] === index[p]) end++;
    if (index[p] >= 0) runs.push(p, end, index[p]);
    p = end;
  }
  return Int32Array.from(runs);
}

/** The line of each character's start: ground truth from the text itself. */
function lineAtChar(text: string): number[] {
  const lines: number[] = [];
  let line = 0;
  for (const ch of text) {
    for (let i = 0; i < ch.length; i++) lines.push(line);
    if (ch === '\n') line++;
  }
  return lines;
}

test('positions map to the line their token starts on, with CRLF and multi-byte text, for byte-level and BPE tokenizers', async () => {
  const text = 'const prix = "€10";\r\nconst 名前 = "héllo 🎉";\r\n\r\n  return prix; // ✓\nend';
  const dir = await tinyModelDir();
  const tokenizers = [(await loadModel(dir, { threads: 1 })).tokenizer, loadTokenizer(join(repoRoot, 'models', 'heed-code-30m'))];
  for (const tokenizer of tokenizers) {
    const ids = tokenizer.encode(text);
    const map: PartTokens[] = [];
    const parts: PromptParts = [{ special: 'fileSep' }, { text: 'a.ts\n' }, { text }];
    const prompt = tokenizePrompt(tokenizer, parts, 10_000, undefined, map);
    const { part, line } = atPositions(positionLines(tokenizer, map, prompt.length), prompt.length);
    const start = prompt.length - ids.length;
    assert.equal(part[0], -1, 'a special token belongs to no part');
    // Each token's line: the newlines in the text decoded before it (an independent route).
    let worst = 0;
    for (let j = 0; j < ids.length; j++) {
      assert.equal(part[start + j], 2);
      const before = tokenizer.decode(ids.slice(0, j));
      const expected = (before.match(/\n/g) ?? []).length;
      if (line[start + j] !== expected) worst++;
    }
    assert.equal(worst, 0, 'tokens on the wrong line');
    assert.equal(line[prompt.length - 1], 4, 'the last token is on the last line');
    // The first character of line 3 ("  return") is where a token starts on line 3.
    const charLines = lineAtChar(text);
    assert.equal(charLines[text.indexOf('  return')], 3);
    assert.ok([...line.subarray(start)].includes(3));
  }
});

test('a part cut at its start keeps its line numbers', async () => {
  const tokenizer = loadTokenizer(join(repoRoot, 'models', 'heed-code-30m'));
  const text = Array.from({ length: 40 }, (_, i) => `line_${i} = ${i * 7}`).join('\n');
  const map: PartTokens[] = [];
  const prompt = tokenizePrompt(tokenizer, [{ text: 'head\n' }, { text, cut: 'start' }], 60, undefined, map);
  assert.equal(prompt.length, 60);
  const cut = map.find((m) => m.part === 1)!;
  assert.ok(cut.skip > 0, 'the part lost tokens from its start');
  const { part, line } = atPositions(positionLines(tokenizer, map, prompt.length), prompt.length);
  assert.equal(part[prompt.length - 1], 1);
  assert.equal(line[prompt.length - 1], 39);
  // The first kept token of "line_39" is on line 39: find it by decoding from the end.
  const tail = tokenizer.decode(prompt.slice(cut.start));
  assert.ok(text.endsWith(tail));
  const firstKeptLine = (text.slice(0, text.length - tail.length).match(/\n/g) ?? []).length;
  assert.equal(line[cut.start], firstKeptLine);
});

test('positions keep their lines when a workspace file is counted once and reused by later prompts, also cut or preceded by other parts', () => {
  const tokenizer = loadTokenizer(join(repoRoot, 'models', 'heed-code-30m'));
  const file = Array.from({ length: 30 }, (_, i) => `export const v${i} = ${i};${i % 4 === 0 ? '\n' : ''}`).join('\n');
  const prompts: Array<{ parts: PromptParts; budget: number }> = [
    { parts: [{ special: 'fileSep' }, { text: 'a.ts\n' }, { text: file }, { special: 'fileSep' }, { text: 'b.ts\n' }, { text: 'let x = v1;\nlet y', cut: 'end' }], budget: 10_000 },
    // The same file (its memoized tokens), after another part on the same line; then a different cursor.
    { parts: [{ text: 'b.ts ' }, { text: file }, { text: '\nlet y = v', cut: 'end' }], budget: 10_000 },
    // The file cut to a budget: fewer of its tokens kept.
    { parts: [{ text: 'const late = 1;\n', cut: 'start' }, { text: file, cut: 'start' }], budget: 120 },
  ];
  for (const [round, { parts, budget }] of [...prompts, ...prompts].entries()) {
    const map: PartTokens[] = [];
    const prompt = tokenizePrompt(tokenizer, parts, budget, undefined, map);
    const { part, line } = atPositions(positionLines(tokenizer, map, prompt.length), prompt.length);
    // Position by position from the part's own tokens: the line breaks decoded before it.
    const expectedPart = new Int32Array(prompt.length).fill(-1);
    const expectedLine = new Int32Array(prompt.length);
    for (const { part: at, start, skip, count, original } of map) {
      let breaks = (tokenizer.decode(Array.from(original.slice(0, skip))).match(/\n/g) ?? []).length;
      for (let j = 0; j < count; j++) {
        expectedPart[start + j] = at;
        expectedLine[start + j] = breaks;
        breaks += (tokenizer.decode([original[skip + j]]).match(/\n/g) ?? []).length;
      }
    }
    assert.deepEqual([...part], [...expectedPart], `round ${round}: parts`);
    assert.deepEqual([...line], [...expectedLine], `round ${round}: lines`);
    // One entry per (part, line) met in a row.
    const { lines } = positionLines(tokenizer, map, prompt.length);
    for (let i = 1; i < lines.length; i++) assert.ok(lines[i].part !== lines[i - 1].part || lines[i].line !== lines[i - 1].line);
  }
});

test('lineScores with a small limit gives the head of the full ranking, ties included', () => {
  // 3,000 positions on 600 lines over three parts, not in part order; masses drawn from a
  // few values, so that many lines tie and the order among them (earlier part, then earlier
  // line) decides.
  const random = seededRandom(7);
  const positions = 3000;
  const index = new Int32Array(positions);
  const lines: Array<{ part: number; line: number }> = [];
  for (let p = 0; p < positions; p++) {
    const i = Math.floor(p / 5);
    if (p % 5 === 0) lines.push({ part: (Math.floor(i / 200) + 1) % 3, line: i % 200 }); // parts 1, 2, 0 in prompt order
    index[p] = i;
  }
  const mass = Float32Array.from({ length: positions }, () => [0, 0, 0.25, 0.5, 1][Math.floor(random() * 5)]);
  const table = { lines, runs: lineRuns(index) };
  const full = lineScores(mass, table, 4);
  for (const limit of [1, 3, 10, 40]) assert.deepEqual(lineScores(mass, table, 4, limit), full.slice(0, limit), `limit ${limit}`);
});

test('lineScores sums per line, skips sinks and special tokens, and normalizes', () => {
  const index = Int32Array.from([-1, 0, 0, 0, -1, 1, 1, 2, 3, 4]);
  const lines = [
    { part: 0, line: 0 },
    { part: 1, line: 0 },
    { part: 1, line: 1 },
    { part: 1, line: 2 },
    { part: 2, line: 0 },
  ];
  const mass = Float32Array.from([9, 9, 9, 9, 9, 1, 2, 4, 1, 0]);
  const scores = lineScores(mass, { lines, runs: lineRuns(index) }, defaultSinkPositions);
  assert.equal(defaultSinkPositions, 4);
  assert.deepEqual(
    scores.map((s) => [s.part, s.line, Math.round(s.score * 80) / 10]),
    [
      [1, 1, 4],
      [1, 0, 3],
      [1, 2, 1],
    ],
  );
});

test('line sums by runs of positions equal the sums position by position', () => {
  // Lines of 1-6 positions, special tokens (-1) between some, a line interrupted by one
  // (two runs of the same entry), sinks cutting the first line, mass shorter than the index.
  const random = seededRandom(3);
  const index: number[] = [];
  for (let entry = 0; index.length < 2000; entry++) {
    const count = 1 + Math.floor(random() * 6);
    for (let k = 0; k < count; k++) index.push(entry);
    if (random() < 0.2) index.push(-1);
    if (random() < 0.1) index.push(entry);
  }
  const lineIndex = Int32Array.from(index);
  const lines = Array.from({ length: Math.max(...index) + 1 }, (_, i) => ({ part: 0, line: i }));
  const table = { lines, runs: lineRuns(lineIndex) };
  for (const [sinks, length] of [[0, index.length], [3, index.length], [5, index.length - 17]]) {
    const mass = Float32Array.from({ length }, () => random());
    const byRuns = new Float64Array(lines.length);
    addLineSums(byRuns, mass, table, sinks);
    const byPosition = new Float64Array(lines.length);
    for (let p = sinks; p < length; p++) if (lineIndex[p] >= 0) byPosition[lineIndex[p]] += mass[p];
    const worst = Math.max(...byRuns.map((v, i) => Math.abs(v - byPosition[i])));
    assert.ok(worst < 1e-9, `sinks ${sinks}, ${length} positions: max |Δ| ${worst}`);
  }
});
