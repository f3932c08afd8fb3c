// Heed against llama.cpp in the same run: the same model (converted to GGUF by Heed's own
// converter), the same token ids, the same threads, measurements interleaved run by run so
// that the machine's load falls on both alike. Cold prefill (a fresh sequence; for
// llama.cpp a cleared one) and greedy decode after a context, as in engineBench.ts.
// llama.cpp runs through node-llama-cpp's prebuilt CPU binaries (scripts/setup-peer.sh).

import { loadModel } from '../engine/loadModel';
import { argmax } from '../engine/sampling';
import { appendRecord, currentCommit, measured, randomTokens, type EngineBenchOptions } from './engineBench';
import { openPeer } from './llamaCpp';
import { kvLabel } from '../engine/kvPolicy';

/** The engine benchmark's options, less the engine-only ones (chunking, graph cache, weight format). */
export type PeerBenchOptions = Pick<EngineBenchOptions, 'modelPath' | 'prefillContexts' | 'decodeContexts' | 'decodeTokens' | 'runs' | 'threads' | 'out' | 'log' | 'kv'>;

export async function runPeerBench(options: PeerBenchOptions): Promise<void> {
  const heed = await loadModel(options.modelPath, { threads: options.threads, kv: options.kv, log: options.log });
  const longest = Math.max(...options.prefillContexts, ...options.decodeContexts.map((c) => c + options.decodeTokens));
  const llama = await openPeer(options.modelPath, longest + 16, options.threads);
  const peer = llama.sequence;
  const commit = currentCommit();

  const record = (system: 'heed' | 'llama.cpp', metric: string, values: number[], extra: { context_tokens: number; [field: string]: unknown }) => {
    const { load_avg_1m, ...stats } = measured(values);
    const r = {
      metric,
      ...extra,
      kv: system === 'heed' ? kvLabel(heed.kv) : 'peer',
      ...(system === 'llama.cpp' ? { peer: 'llama.cpp (node-llama-cpp 3.22.1, f16 GGUF, flash attention)' } : { weights: 'fp32' }),
      model: heed.name,
      ...stats,
      commit,
      threads: options.threads,
      load_avg_1m,
    };
    appendRecord(options.out, r);
    options.log(`${system.padEnd(10)} ${metric.padEnd(12)} ${String(r.context_tokens ?? '').padStart(6)}  median ${r.median.toFixed(1).padStart(9)}  (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)}, load ${r.load_avg_1m})`);
  };

  try {
    const vocab = heed.config.vocabSize;
    for (const context of options.prefillContexts) {
      const ids = randomTokens(context, vocab, context);
      const ours: number[] = [];
      const theirs: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        let t0 = performance.now();
        heed.newSequence().append(ids);
        ours.push((context * 1000) / (performance.now() - t0));
        await peer.clearHistory();
        t0 = performance.now();
        await peer.evaluateWithoutGeneratingNewTokens(ids);
        theirs.push((context * 1000) / (performance.now() - t0));
      }
      record('heed', 'prefill_tps', ours, { scenario: 'cold', context_tokens: context });
      record('llama.cpp', 'prefill_tps', theirs, { scenario: 'cold', context_tokens: context });
    }
    for (const context of options.decodeContexts) {
      const ids = randomTokens(context, vocab, context);
      const ours: number[] = [];
      const theirs: number[] = [];
      const sequence = heed.newSequence();
      let logits = sequence.append(ids);
      const afterContext = logits;
      await peer.clearHistory();
      await peer.evaluateWithoutGeneratingNewTokens(ids.slice(0, -1));
      for (let run = 0; run < options.runs; run++) {
        sequence.truncate(context);
        // An int8 cache cut inside a quantized block holds less: run the rest of the context again.
        logits = sequence.length < context ? sequence.append(ids.slice(sequence.length, context)) : afterContext;
        let t0 = performance.now();
        for (let i = 0; i < options.decodeTokens; i++) logits = sequence.append([argmax(logits)]);
        ours.push((options.decodeTokens * 1000) / (performance.now() - t0));
        // llama.cpp: the context's last token is evaluated with the decode, then N tokens come out.
        await peer.eraseContextTokenRanges([{ start: context - 1, end: peer.nextTokenIndex }]);
        let produced = 0;
        t0 = performance.now();
        for await (const token of peer.evaluate(ids.slice(-1), { temperature: 0 })) {
          void token;
          if (++produced >= options.decodeTokens) break;
        }
        theirs.push((options.decodeTokens * 1000) / (performance.now() - t0));
      }
      record('heed', 'decode_tps', ours, { context_tokens: context, decode_tokens: options.decodeTokens });
      record('llama.cpp', 'decode_tps', theirs, { context_tokens: context, decode_tokens: options.decodeTokens });
    }
  } finally {
    await llama.dispose();
    await heed.dispose();
  }
}
