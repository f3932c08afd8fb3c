// The engine against golden logits that an independent implementation computed for tiny
// random Qwen2, Llama and Mistral checkpoints (test/fixtures/golden/, written by
// tools/golden_fixtures.py: numpy in float64 following Hugging Face's modeling code).
// Each prompt is prefilled in one pass, in chunks of 16 (also through the flash path) and
// token by token; every mode must match the reference logits within `tolerance` and then
// decode the same 8 greedy tokens.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../../server/engine/loadModel';
import { argmax } from '../../../server/engine/sampling';
import { Sequence } from '../../../server/engine/types';
import { maxAbsDiff } from './engineFixtures';

/** fp32 engine vs float64 reference on logits of magnitude ~10; fp32 rounding alone is ~1e-5. */
const tolerance = 1e-3;

// The bundle runs from out/test/unit/engine/, four levels below the repository root.
const goldenRoot = join(resolve(__dirname, '../../../..'), 'test', 'fixtures', 'golden');
const families = ['qwen2', 'llama', 'mistral'];

/** golden.json, as tools/golden_fixtures.py writes it. */
interface Golden {
  family: string;
  generator: string;
  prompts: Array<{
    ids: number[];
    last_logits: number[]; // [vocab] at position ids.length - 1
    positions?: Array<{ position: number; logits: number[] }>; // the longest prompt only
    greedy: number[]; // argmax tokens after the prompt, each appended before the next
    greedy_min_margin: number; // the reference's smallest top-1 minus top-2 logit on that path
  }>;
}

// The last modes send passes through the flash path (decoderGraph.ts FlashPastThresholds),
// which the default thresholds keep for long passes over a long past: every pass, then
// every pass of two tokens or more, so that decoding after a flash prefill takes the masked
// path (with the past mask built only for such passes).
const modes = [
  { name: 'one pass', chunkTokens: 4096, tokenByToken: false },
  { name: 'chunks of 16', chunkTokens: 16, tokenByToken: false },
  { name: 'token by token', chunkTokens: 4096, tokenByToken: true },
  { name: 'chunks of 16, flash past', chunkTokens: 16, tokenByToken: false, flashPast: { minTokens: 1, minPast: 0 } },
  { name: 'chunks of 16 flash past, decoding masked', chunkTokens: 16, tokenByToken: false, flashPast: { minTokens: 2, minPast: 0 } },
];

/** The largest |Δlogit| seen, and where, so that a failure points at a prompt and position. */
class Worst {
  diff = 0;
  where = 'nowhere';
  see(actual: Float32Array, expected: number[], where: string): void {
    const diff = maxAbsDiff(actual, expected);
    if (diff > this.diff) [this.diff, this.where] = [diff, where];
  }
}

function readGolden(family: string): { dir: string; golden: Golden } {
  const dir = join(goldenRoot, family);
  const path = join(dir, 'golden.json');
  if (!existsSync(path)) assert.fail(`${path} is missing; regenerate with /usr/bin/python3 tools/golden_fixtures.py`);
  return { dir, golden: JSON.parse(readFileSync(path, 'utf8')) as Golden };
}

for (const family of families) {
  test(`golden ${family}: logits and greedy tokens match the reference`, async (t) => {
    const { dir, golden } = readGolden(family);
    assert.equal(golden.family, family);
    const summary: string[] = [];
    for (const mode of modes) {
      await t.test(mode.name, async () => {
        const model = await loadModel(dir, { threads: 1, chunkTokens: mode.chunkTokens, flashPast: mode.flashPast });
        try {
          const worst = new Worst();
          const greedy: Array<{ actual: number[]; expected: number[]; n: number; margin: number }> = [];
          for (const prompt of golden.prompts) {
            const n = prompt.ids.length;
            const checks = [{ position: n - 1, logits: prompt.last_logits }, ...(prompt.positions ?? [])];
            let seq: Sequence;
            let logits: Float32Array;
            if (mode.tokenByToken) {
              // One sequence fed a token at a time: each append returns that position's logits.
              seq = model.newSequence();
              for (let p = 0; p < n; p++) {
                logits = seq.append([prompt.ids[p]]);
                for (const c of checks) if (c.position === p) worst.see(logits, c.logits, `prompt of ${n}, position ${p}`);
              }
            } else {
              // Mid-prompt positions: a fresh sequence given the prefix [0, position].
              for (const c of checks) {
                if (c.position === n - 1) continue;
                worst.see(model.newSequence().append(prompt.ids.slice(0, c.position + 1)), c.logits, `prompt of ${n}, position ${c.position}`);
              }
              seq = model.newSequence();
              logits = seq.append(prompt.ids);
              worst.see(logits, prompt.last_logits, `prompt of ${n}, position ${n - 1}`);
            }
            const tokens: number[] = [];
            for (let i = 0; i < prompt.greedy.length; i++) {
              tokens.push(argmax(logits!));
              logits = seq.append([tokens[i]]);
            }
            greedy.push({ actual: tokens, expected: prompt.greedy, n, margin: prompt.greedy_min_margin });
          }
          summary.push(`${mode.name} ${worst.diff.toExponential(2)}`);
          // Logits first: when they are off, that is the cause of any greedy difference.
          assert.ok(worst.diff <= tolerance, `${family} ${mode.name}: max |Δlogit| ${worst.diff} at ${worst.where} exceeds ${tolerance}`);
          for (const g of greedy) {
            assert.deepEqual(g.actual, g.expected, `${family} ${mode.name}: greedy tokens after the prompt of ${g.n} (reference margin ${g.margin})`);
          }
        } finally {
          await model.dispose();
        }
      });
    }
    console.log(`golden ${family}: max |Δlogit| ${summary.join(', ')} (tolerance ${tolerance})`);
  });
}
