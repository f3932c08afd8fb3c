// heed convert gguf, checked by llama.cpp itself (node-llama-cpp's prebuilt binaries, CPU):
// the converted shipped model must tokenize exactly as Heed does and give transformers'
// next-token log-probabilities within f16 tolerance.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTokenizer } from '../../server/engine/tokenizer';
import { loadLlamaCpp } from '../../server/bench/llamaCpp';

const root = join(__dirname, '..', '..', '..');
const heed = join(root, 'bin', 'heed.js');
const modelDir = join(root, 'models', 'heed-code-30m');
const work = mkdtempSync(join(tmpdir(), 'heed-gguf-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** f16 weights against fp32 on the bf16 originals: log-probabilities of likely tokens agree to about 1e-3. */
const tolerance = 1e-2;

test('the converted model tokenizes as Heed does and gives the reference log-probabilities in llama.cpp', async () => {
  const gguf = join(work, 'heed-code-30m.gguf');
  execFileSync(process.execPath, [heed, 'convert', 'gguf', '--model', modelDir, '--out', gguf], { encoding: 'utf8' });
  const reference = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'heed-code-30m', 'reference-logits.json'), 'utf8')) as {
    text: string;
    ids: number[];
    logits: number[][];
  };
  const parity = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'heed-code-30m', 'tokenizer-parity.json'), 'utf8')) as { cases: Array<{ text: string }> };
  const tokenizer = loadTokenizer(modelDir);

  const llama = await loadLlamaCpp(); // installed by scripts/setup-peer.sh, which npm test runs
  const model = await llama.loadModel({ modelPath: gguf });
  try {
    for (const { text } of parity.cases) {
      if (text.includes('<|')) continue; // special-token names: Heed never reads them from text
      // llama.cpp skips the tokenizer's NFC normalizer (for Qwen2 too), so it is given NFC text;
      // a benchmark against it sends token ids, never text.
      assert.deepEqual(model.tokenize(text.normalize('NFC'), false), tokenizer.encode(text), `tokens of ${JSON.stringify(text.slice(0, 40))}`);
    }
    const context = await model.createContext({ contextSize: 256, threads: 2 });
    try {
      const logits = reference.logits[reference.logits.length - 1]; // after the whole text
      const max = Math.max(...logits);
      const logSumExp = max + Math.log(logits.reduce((sum, x) => sum + Math.exp(x - max), 0));
      let worst = 0;
      let compared = 0;
      for await (const out of context.getSequence().evaluateWithMetadata(reference.ids, { probabilities: true }, { temperature: 0 })) {
        for (const [token, p] of out.probabilities) {
          if (p < 1e-4) continue;
          worst = Math.max(worst, Math.abs(Math.log(p) - (logits[token] - logSumExp)));
          compared++;
        }
        break;
      }
      console.log(`llama.cpp vs transformers: max |Δ log p| ${worst.toExponential(2)} over ${compared} tokens with p ≥ 1e-4 (tolerance ${tolerance})`);
      assert.ok(compared >= 3, 'several likely tokens compared');
      assert.ok(worst <= tolerance, `max |Δ log p| ${worst}`);
    } finally {
      await context.dispose();
    }
  } finally {
    await model.dispose();
    await llama.dispose();
  }
});
