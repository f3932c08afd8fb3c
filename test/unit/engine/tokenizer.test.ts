// The tokenizer wrapper over the tiny model's byte-level tokenizer.json.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTokenizer } from '../../../server/engine/tokenizer';
import { ModelLoadError } from '../../../server/engine/types';
import { tinyModelDir, tempDir } from './engineFixtures';

const tricky = [
  '',
  'plain ascii',
  'line one\r\nline two\r\n\r\n',
  '\ttabs\tand  double  spaces  ',
  'emoji 👩‍💻 and 🎉 flags 🇫🇷',
  'accents: café, naïve, Ελληνικά, 日本語, Ünïcödé',
  'zero\u200bwidth and nbsp\u00a0here',
  'const x = a ?? b; // ok\n',
  " it's  hello . world , ! ",
];

test('encode/decode round-trips tricky text exactly, one token per byte', async () => {
  const tokenizer = loadTokenizer(await tinyModelDir());
  for (const text of tricky) {
    const ids = tokenizer.encode(text);
    assert.equal(ids.length, Buffer.byteLength(text), JSON.stringify(text));
    assert.ok(ids.every((id) => id < 256));
    assert.equal(tokenizer.decode(ids), text);
  }
});

test('special tokens are found by name and user-typed special text stays text', async () => {
  const dir = await tinyModelDir();
  const tiny = loadTokenizer(dir);
  // The tiny model has no fill-in-the-middle tokens (a bigram cannot use them).
  assert.deepEqual(
    [tiny.special.endOfText, tiny.special.fimPrefix, tiny.special.fimMiddle, tiny.special.fimSuffix, tiny.special.fimPad, tiny.special.fileSep, tiny.special.repoName],
    [256, undefined, undefined, undefined, undefined, 257, 258],
  );
  // A tokenizer with all of Qwen2.5-Coder's special tokens.
  const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
  ['<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>'].forEach((content, i) =>
    json.added_tokens.push({ id: 259 + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }),
  );
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  const tokenizer = loadTokenizer(dir);
  const { special } = tokenizer;
  assert.deepEqual(
    [special.endOfText, special.fimPrefix, special.fimMiddle, special.fimSuffix, special.fimPad, special.fileSep, special.repoName],
    [256, 259, 260, 261, 262, 257, 258],
  );
  assert.deepEqual(special.eos, [256]);
  const typed = 'a <|endoftext|> b <|fim_prefix|>';
  const ids = tokenizer.encode(typed);
  assert.ok(ids.every((id) => id < 256), 'no special ids from user text');
  assert.equal(tokenizer.decode(ids), typed);
  assert.equal(tokenizer.decode([special.fileSep!, ...tokenizer.encode('a.ts')]), '<|file_sep|>a.ts');
});

test('eos ids come from generation_config.json (number or list) plus end of text', async () => {
  const dir = await tinyModelDir();
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 258 }));
  assert.deepEqual(loadTokenizer(dir).special.eos, [256, 258]);
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: [262, 256] }));
  assert.deepEqual(loadTokenizer(dir).special.eos, [256, 262]);
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ eos_token_id: 'x' }));
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof ModelLoadError && e.file === 'generation_config.json');
});

test('a missing or broken tokenizer.json is a ModelLoadError naming it', () => {
  const dir = tempDir();
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof ModelLoadError && e.file === 'tokenizer.json');
  writeFileSync(join(dir, 'tokenizer.json'), '{"model": ');
  assert.throws(() => loadTokenizer(dir), (e: unknown) => e instanceof ModelLoadError && e.file === 'tokenizer.json');
});

test('the chat template comes from tokenizer_config.json when there is one', async () => {
  const dir = await tinyModelDir();
  assert.equal(loadTokenizer(dir).chatTemplate, undefined);
  const config = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, chat_template: '{% for m in messages %}{{ m.content }}{% endfor %}' }));
  assert.match(loadTokenizer(dir).chatTemplate!, /for m in messages/);
  writeFileSync(
    join(dir, 'tokenizer_config.json'),
    JSON.stringify({ ...config, chat_template: [{ name: 'tool_use', template: 'T' }, { name: 'default', template: 'D' }] }),
  );
  assert.equal(loadTokenizer(dir).chatTemplate, 'D');
});
