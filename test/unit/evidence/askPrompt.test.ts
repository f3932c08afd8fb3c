// How a question is put to the model: as a comment to complete for a base code model, as a
// ChatML turn for an instruct model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { askPrompt } from '../../../server/features/ask/askPrompt';
import { contrastLines } from '../../../server/features/ask/neutralQuestion';

const special = { fileSep: 1, eos: [0] };

test('a base model gets the question as a comment in a new file of the active language, with earlier turns', () => {
  const prompt = askPrompt({ question: 'Where is the tax rate?\nAnd why?', kind: 'workspace', activePath: 'src/app.py', history: [{ question: 'What is this?', answer: 'A shop.' }] }, special);
  assert.deepEqual(prompt.parts.slice(0, 2), [{ special: 'fileSep' }, { text: 'questions.py\n' }]);
  const texts = prompt.parts.slice(2).map((part) => (part as { text: string }).text);
  assert.deepEqual(texts, ['# Questions about this repository, answered by its maintainers.\n\n# Q: What is this?\n# A: A shop.\n', '# Q: Where is the tax rate?\n#    And why?\n# A:']);
  // What is asked, and only that, is the last part: evidence counts its tokens.
  assert.equal(prompt.askedPart, 3);
  assert.deepEqual(prompt.stop, ['\n\n', '\n# Q:']);
  assert.match(prompt.framing, /base code model/);
  assert.ok(prompt.framing.endsWith(texts.join('')));
});

test('explaining a selection puts the code first, then the question as a comment', () => {
  const prompt = askPrompt({ question: 'Explain this code.', kind: 'selection', selection: { path: 'src/money.ts', text: 'export const rate = 0.2;\n\n' }, history: [] }, special);
  assert.deepEqual(prompt.parts[1], { text: 'src/money.ts\n' });
  assert.equal(prompt.parts.length, 3);
  assert.equal(prompt.askedPart, 2);
  assert.equal((prompt.parts[2] as { text: string }).text, 'export const rate = 0.2;\n\n// Q: Explain this code.\n// A:');
  // A follow-up: the earlier turns come first, then the code and the question, asked together.
  const followUp = askPrompt({ question: 'And the rate?', kind: 'selection', selection: { path: 'src/money.ts', text: 'export const rate = 0.2;' }, history: [{ question: 'Explain this code.', answer: 'A rate.' }] }, special);
  assert.deepEqual(
    followUp.parts.slice(2).map((part) => (part as { text: string }).text),
    ['// Q: Explain this code.\n// A: A rate.\n\n', 'export const rate = 0.2;\n\n// Q: And the rate?\n// A:'],
  );
  assert.equal(followUp.askedPart, 3);
});

test('an instruct model with a ChatML template gets a user turn', () => {
  const prompt = askPrompt({ question: 'Where is main?', kind: 'workspace', history: [], chatFormat: 'chatml' }, special);
  assert.match((prompt.parts[0] as { text: string }).text, /^\n<\|im_start\|>system\n/);
  assert.equal(prompt.askedPart, 1);
  assert.equal((prompt.parts[1] as { text: string }).text, '<|im_start|>user\nWhere is main?<|im_end|>\n<|im_start|>assistant\n');
  assert.deepEqual(prompt.stop, ['<|im_end|>']);
  assert.match(prompt.framing, /^Chat/);
});

test('an instruct model whose template is not ChatML is asked as code, and the framing says why', () => {
  const prompt = askPrompt({ question: 'Where is main?', kind: 'workspace', history: [], otherChatTemplate: true }, special);
  assert.match(prompt.framing, /^The model's chat template is not ChatML/);
  assert.equal((prompt.parts[prompt.askedPart] as { text: string }).text, '// Q: Where is main?\n// A:');
});

test("a question's lines less a neutral question's: shares of the workspace's lines, positive differences only, ties by place", () => {
  // Parts 0-2 are the workspace's, 3 and on the question's (not places).
  const question = [{ part: 2, line: 1, score: 0.3 }, { part: 4, line: 0, score: 0.4 }, { part: 1, line: 5, score: 0.2 }, { part: 2, line: 7, score: 0.1 }];
  const neutral = [{ part: 1, line: 5, score: 0.5 }, { part: 3, line: 0, score: 0.3 }, { part: 2, line: 7, score: 0.1 }, { part: 0, line: 2, score: 0.1 }];
  // Question shares: 2:1 0.5, 1:5 1/3, 2:7 1/6. Neutral shares: 1:5 5/7, 2:7 1/7, 0:2 1/7.
  const lines = contrastLines(question, neutral, 3);
  assert.deepEqual(lines.map((l) => [l.part, l.line]), [[2, 1], [2, 7]]);
  assert.ok(Math.abs(lines[0].score - 0.5) < 1e-12 && Math.abs(lines[1].score - (1 / 6 - 1 / 7)) < 1e-12);
  // Without a baseline the question's shares stand; ties go by part, then line.
  assert.deepEqual(contrastLines([{ part: 1, line: 3, score: 0.2 }, { part: 0, line: 9, score: 0.2 }], [], 3).map((l) => [l.part, l.line, l.score]), [[0, 9, 0.5], [1, 3, 0.5]]);
  assert.deepEqual(contrastLines([], neutral, 3), []);
});
