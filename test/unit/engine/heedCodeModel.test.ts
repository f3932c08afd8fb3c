// The shipped model, models/heed-code-30m, against references that its training run made
// with the Python libraries it was trained with (test/fixtures/heed-code-30m/):
// - tokenizer-parity.json: Python tokenizers' ids for tricky texts; Heed's tokenizer must agree.
// - reference-logits.json: transformers' Qwen2ForCausalLM logits (fp32 on the bf16 weights).
// And the folder's checksums.json: a changed or missing file is refused at load.
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { loadTokenizer } from '../../../server/engine/tokenizer';
import { verifyChecksums } from '../../../server/engine/checkpoint/checksums';
import { ModelLoadError } from '../../../server/engine/types';
import { tokenizePrompt } from '../../../server/engine/promptTokens';
import type { PromptPart } from '../../../server/worker/messages';
import { maxAbsDiff, tempDir } from './engineFixtures';

// The bundle runs from out/test/unit/engine/, four levels below the repository root.
const root = resolve(__dirname, '../../../..');
const modelDir = join(root, 'models', 'heed-code-30m');
const fixtures = join(root, 'test', 'fixtures', 'heed-code-30m');

/** fp32 engine vs fp32 PyTorch on the same bf16 weights, logits of magnitude ~10. */
const tolerance = 1e-3;

test('heed-code-30m: the tokenizer matches Python tokenizers id for id', () => {
  const parity = JSON.parse(readFileSync(join(fixtures, 'tokenizer-parity.json'), 'utf8')) as { cases: Array<{ text: string; ids: number[] }> };
  const tokenizer = loadTokenizer(modelDir);
  assert.ok(parity.cases.length >= 8);
  for (const { text, ids } of parity.cases) {
    // Python's encode reads special-token names in the text as those tokens; Heed's encode
    // never does (user text must not inject them), so the worker's way is used: split, then encode.
    const actual = encodeWithSpecials(tokenizer, text);
    assert.deepEqual(actual, ids, `ids of ${JSON.stringify(text.slice(0, 40))}`);
    assert.equal(tokenizer.decode(actual), text.normalize('NFC'), 'decode(encode(text)) is the NFC text');
  }
  assert.equal(tokenizer.fimOrder, 'spm');
});

const specialParts: Record<string, PromptPart> = {
  '<|repo_name|>': { special: 'repoName' },
  '<|file_sep|>': { special: 'fileSep' },
  '<|fim_prefix|>': { special: 'fimPrefix' },
  '<|fim_suffix|>': { special: 'fimSuffix' },
  '<|fim_middle|>': { special: 'fimMiddle' },
};

/** Text with special-token names, tokenized as the worker tokenizes a prompt's parts. */
function encodeWithSpecials(tokenizer: ReturnType<typeof loadTokenizer>, text: string): number[] {
  const parts = text.split(/(<\|[a-z_]+\|>)/).map((piece): PromptPart => specialParts[piece] ?? { text: piece });
  return tokenizePrompt(tokenizer, parts, Number.MAX_SAFE_INTEGER);
}

test('heed-code-30m: the engine gives the logits of transformers', async () => {
  const reference = JSON.parse(readFileSync(join(fixtures, 'reference-logits.json'), 'utf8')) as {
    text: string;
    ids: number[];
    positions: number[];
    logits: number[][];
    argmax: number[];
  };
  const model = await loadModel(modelDir, { threads: 2 });
  try {
    assert.deepEqual(model.tokenizer.encode(reference.text), reference.ids, 'the reference text tokenizes to the reference ids');
    let worst = 0;
    for (const [i, position] of reference.positions.entries()) {
      const logits = model.newSequence().append(reference.ids.slice(0, position + 1));
      worst = Math.max(worst, maxAbsDiff(logits, reference.logits[i]));
    }
    console.log(`heed-code-30m: max |Δlogit| ${worst.toExponential(2)} over ${reference.positions.length} positions (tolerance ${tolerance})`);
    assert.ok(worst <= tolerance, `max |Δlogit| ${worst} exceeds ${tolerance}`);
  } finally {
    await model.dispose();
  }
});

test('heed-code-30m: checksums.json lists every weight file and matches the folder', () => {
  const verified = verifyChecksums(modelDir);
  const weightFiles = readdirSync(modelDir).filter((name) => name.endsWith('.safetensors') || name.endsWith('.json'));
  // head-pattern.json is not a checkpoint file: `heed calibrate` may rewrite it, and it carries its own checks (headPattern.ts).
  for (const name of weightFiles) if (name !== 'checksums.json' && name !== 'head-pattern.json') assert.ok(verified.has(name), `${name} is verified`);
});

test('a changed, truncated or missing file of a checksummed folder is refused at load with its name', async () => {
  const dir = tempDir('heed-checksums-');
  try {
    for (const name of readdirSync(modelDir)) if (statSync(join(modelDir, name)).isFile()) copyFileSync(join(modelDir, name), join(dir, name));
    const shard = 'model-00004-of-00004.safetensors';
    const original = readFileSync(join(dir, shard));

    const flipped = Buffer.from(original);
    flipped[flipped.length - 1] ^= 1;
    writeFileSync(join(dir, shard), flipped);
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelLoadError && e.message.includes(shard) && /sha256/.test(e.message));

    writeFileSync(join(dir, shard), original.subarray(0, original.length - 10));
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelLoadError && e.message.includes(shard) && /bytes/.test(e.message));

    rmSync(join(dir, shard));
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelLoadError && e.message.includes(shard) && /missing/.test(e.message));

    writeFileSync(join(dir, 'checksums.json'), '{"files": [1, 2]}');
    await assert.rejects(loadModel(dir), (e: unknown) => e instanceof ModelLoadError && e.message.includes('checksums.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
