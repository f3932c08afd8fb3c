// "Where is …" cases: reading them, the question's prompt and where its parts start, and
// the ranks that score an answer line among a report's spans.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { definitionCases, readWhereCases, spanRank, summarizeRanks, wherePrompt } from '../../../server/eval/whereEval';
import type { EvidenceSpan } from '../../../server/protocol';

const dir = mkdtempSync(join(tmpdir(), 'heed-where-'));

test('cases are read with their ids; a case without its line or question is an error naming the line', () => {
  const file = join(dir, 'cases.jsonl');
  writeFileSync(file, '{"id": "rate", "question": "Where is the rate?", "path": "src/a.ts", "line": 2}\n\n{"question": "Where is b?", "path": "src/b.ts", "line": 1}\n');
  assert.deepEqual(readWhereCases(file), [
    { id: 'rate', question: 'Where is the rate?', path: 'src/a.ts', line: 2 },
    { id: 'where-2', question: 'Where is b?', path: 'src/b.ts', line: 1 },
  ]);
  writeFileSync(file, '{"question": "Where?", "path": "src/a.ts"}\n');
  assert.throws(() => readWhereCases(file), /cases\.jsonl:1: a case needs "question" \(text\), "path" and "line"/);
  writeFileSync(file, '{"question": "Where?", "path": "src/a.ts", "line": 0}\n{not json\n');
  assert.throws(() => readWhereCases(file), /cases\.jsonl:1:/);
  writeFileSync(file, '{not json\n');
  assert.throws(() => readWhereCases(file), /cases\.jsonl:1: not JSON/);
});

test("the question's prompt: the workspace files, then the question as the ask feature puts it, evidence counted from what is asked", () => {
  const prompt = wherePrompt([{ path: 'src/a.ts', text: 'export const rate = 2;\n' }], 'w', 'Where is the rate?', { fileSep: 1, repoName: 2, eos: [0] });
  const texts = prompt.parts.map((part) => ('text' in part ? part.text : `<${part.special}>`));
  assert.deepEqual(texts.slice(0, 5), ['<repoName>', 'w\n', '<fileSep>', 'src/a.ts\n', 'export const rate = 2;\n']);
  assert.equal(prompt.questionStart, 5);
  assert.equal(texts[prompt.questionStart + 1], 'questions.ts\n');
  assert.equal(texts[prompt.fromPart], '// Q: Where is the rate?\n// A:');
  assert.equal(prompt.fromPart, prompt.parts.length - 1);
});

const span = (path: string, startLine: number, endLine: number, score: number): EvidenceSpan => ({ uri: `file:///${path}`, path, startLine, endLine, score, lines: [] });

test('an answer line ranks by the first span, best first, that holds it; none holds it: null', () => {
  const spans = [span('src/a.ts', 0, 1, 0.5), span('src/b.ts', 3, 5, 0.3), span('src/a.ts', 6, 6, 0.2)];
  assert.equal(spanRank(spans, 'src/a.ts', 2), 1, '1-based lines: 0–1 holds line 2');
  assert.equal(spanRank(spans, 'src/b.ts', 6), 2);
  assert.equal(spanRank(spans, 'src/a.ts', 7), 3);
  assert.equal(spanRank(spans, 'src/a.ts', 3), null);
  assert.equal(spanRank(undefined, 'src/a.ts', 1), null);
  assert.deepEqual(summarizeRanks([1, 3, null, 2]), { cases: 4, hitAt1: 0.25, hitAt3: 0.75, meanReciprocalRank: Number(((1 + 1 / 3 + 1 / 2) / 4).toFixed(4)) });
  assert.deepEqual(summarizeRanks([]), { cases: 0, hitAt1: 0, hitAt3: 0, meanReciprocalRank: 0 });
});

test('definition cases: top-level definitions named once, each asked "Where is NAME defined?", the same for a seed', () => {
  const files = [
    { path: 'pkg/a.py', text: 'import os\nLIMIT = 10\n\ndef clamp(x):\n    inner = 1\n    return x\n\nclass Shape:\n    def area(self):\n        pass\n' },
    { path: 'pkg/b.py', text: 'def clamp(y):\n    return y\nab = 1\n__all__ = []\n' },
    { path: 'src/c.ts', text: 'export function formatPrice(x: number) {\n  const local = 1;\n}\nexport const taxRate = 0.2;\ninterface Item {}\n' },
  ];
  const cases = definitionCases(files, 10, 1);
  // clamp is defined twice (ambiguous), inner/local/area are not top level, ab is too short, __all__ is a dunder.
  assert.deepEqual(
    cases.map((c) => [c.question, c.path, c.line]),
    [
      ['Where is Item defined?', 'src/c.ts', 5],
      ['Where is LIMIT defined?', 'pkg/a.py', 2],
      ['Where is Shape defined?', 'pkg/a.py', 8],
      ['Where is formatPrice defined?', 'src/c.ts', 1],
      ['Where is taxRate defined?', 'src/c.ts', 4],
    ],
  );
  assert.deepEqual(definitionCases(files, 2, 7), definitionCases(files, 2, 7));
  assert.equal(definitionCases(files, 2, 7).length, 2);
});
