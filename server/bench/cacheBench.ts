// heed bench cache: time to first token, cold and warm, over a workspace prompt (EVAL.md,
// "Performance figures"). Each scenario is what a user does between two completions: type a
// character, change a line above the cursor, change a line in a file in the middle of the
// context, switch to another file and back, open a file not completed in before, restart
// with the prefix on disk. Heed resumes from its prefix cache (cachedSequence.ts); the
// peer, llama.cpp on the same model and token ids, keeps its context between requests and
// reuses the longest common prefix, as llama-server's cache_prompt does. Both get the same
// prompts in the same order, run by run interleaved. Times exclude tokenization.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CachedSequence, PrefixCache } from '../engine/cachedSequence';
import { generate } from '../engine/generate';
import { kvLabel } from '../engine/kvPolicy';
import { prefixKeyOf } from '../engine/prefixStore';
import type { KvRequest } from '../engine/types';
import type { WeightFormat } from '../engine/graph/decoderGraph';
import { readSourceFiles } from '../eval/caseGen';
import { appendRecord, currentCommit, loadBenchModel, measured, median } from './engineBench';
import { CacheWorkload, type WorkspaceState } from './cacheWorkload';
import { openPeer, type PeerSequence } from './llamaCpp';

export interface CacheBenchOptions {
  modelPath: string;
  contexts: number[];
  runs: number;
  threads: number;
  chunkTokens?: number;
  graphCacheDir?: string;
  weightFormat?: WeightFormat;
  kv?: KvRequest;
  /** A folder of code whose files make the workspace. */
  workspace: string;
  memoryLimitMB: number;
  peer: boolean;
  /** The scenarios to measure (all when absent). */
  scenarios?: string[];
  out: string;
  log(line: string): void;
}

export const cacheScenarios = ['cold', 'warm_keystroke', 'warm_line', 'warm_middle_edit', 'open_file', 'switch_file', 'restart_persisted', 'restart_persisted_moved'];

const firstToken = { maxTokens: 1, temperature: 0, topP: 1, seed: 0, stop: [] };
const typedText = 'const value = items.length;';

/** llama.cpp's single sequence with cache_prompt's reuse: keep the longest common prefix, evaluate the rest. */
class PeerSession {
  private held: number[] = [];
  constructor(private readonly sequence: PeerSequence) {}

  async ttftMs(ids: number[]): Promise<number> {
    let common = 0;
    while (common < this.held.length && common < ids.length - 1 && this.held[common] === ids[common]) common++;
    await this.sequence.eraseContextTokenRanges([{ start: common, end: this.sequence.nextTokenIndex }]);
    const t0 = performance.now();
    for await (const token of this.sequence.evaluate(ids.slice(common), { temperature: 0 })) {
      void token;
      break;
    }
    const ms = performance.now() - t0;
    this.held = ids.slice();
    return ms;
  }

  async clear(): Promise<void> {
    await this.sequence.clearHistory();
    this.held = [];
  }
}

interface Sample {
  heed: number;
  peer?: number;
  computed: number;
}

export async function runCacheBench(options: CacheBenchOptions): Promise<void> {
  const model = await loadBenchModel(options);
  const work = mkdtempSync(join(tmpdir(), 'heed-cache-bench-'));
  const files = readSourceFiles(options.workspace, 16 << 20);
  const contexts = options.contexts.filter((c) => c + 8 <= model.config.maxPositions);
  for (const c of options.contexts.filter((c) => !contexts.includes(c))) options.log(`skipped ${c} tokens: ${model.name} takes ${model.config.maxPositions} positions`);
  const commit = currentCommit();
  const want = (scenario: string) => !options.scenarios || options.scenarios.includes(scenario);
  const limitBytes = options.memoryLimitMB * 2 ** 20;
  const key = prefixKeyOf(model, options.weightFormat ?? 'fp32');

  let peer: { session: PeerSession; dispose(): Promise<void>; name: string } | undefined;
  if (options.peer && contexts.length > 0) {
    const opened = await openPeer(options.modelPath, Math.max(...contexts) + 64, options.threads);
    peer = { session: new PeerSession(opened.sequence), name: 'llama.cpp (node-llama-cpp, f16 GGUF, flash attention, longest common prefix kept)', dispose: opened.dispose };
  }

  let promptShape: Record<string, number> = {};
  const record = (scenario: string, context: number, samples: Sample[], extra: Record<string, unknown> = {}) => {
    const base = { metric: 'ttft_ms', scenario, context_tokens: context, ...promptShape, model: model.name, commit, threads: options.threads };
    const heed = { ...base, kv: kvLabel(model.kv), weights: options.weightFormat ?? 'fp32', chunk_tokens: model.chunkTokens, ...measured(samples.map((s) => s.heed)) };
    const computed = median(samples.map((s) => s.computed));
    appendRecord(options.out, { ...heed, computed_tokens_median: computed, ...extra });
    let line = `${scenario.padEnd(18)} ${String(context).padStart(6)}  heed ${heed.median.toFixed(1).padStart(8)} ms (computed ${computed})`;
    if (samples.every((s) => s.peer !== undefined)) {
      const theirs = { ...base, kv: 'peer', peer: peer!.name, ...measured(samples.map((s) => s.peer!)) };
      appendRecord(options.out, theirs);
      line += `  llama.cpp ${theirs.median.toFixed(1).padStart(8)} ms`;
    }
    options.log(`${line}  (load ${heed.load_avg_1m})`);
  };

  try {
    for (const context of contexts) {
      const w = new CacheWorkload(model.tokenizer, files, context);
      const p0 = w.prompt(w.initial);
      promptShape = { prompt_tokens: p0.length, workspace_tokens: w.workspaceTokens() };
      options.log(`${context} tokens: prompt of ${p0.length} tokens (${promptShape.workspace_tokens} before the active file: ${w.contextPaths.length} workspace files), typing in ${w.activePaths.join(' and ')}`);
      const fresh = () => new CachedSequence(model, new PrefixCache(limitBytes));
      const heedRun = (cached: CachedSequence, ids: number[]) => {
        const r = generate(cached, ids, firstToken, () => false);
        return { heed: r.ttftMs, computed: r.promptTokens - r.reusedTokens };
      };
      const both = async (cached: CachedSequence, ids: number[]): Promise<Sample> => ({ ...heedRun(cached, ids), peer: await peer?.session.ttftMs(ids) });

      // cold: nothing cached.
      if (want('cold')) {
        const cold: Sample[] = [];
        for (let run = 0; run < options.runs; run++) {
          await peer?.session.clear();
          cold.push(await both(fresh(), p0));
        }
        record('cold', context, cold);
      }

      // The rest start from the workspace prompt cached.
      const cached = fresh();
      heedRun(cached, p0);
      await peer?.session.ttftMs(p0);
      if (want('warm_keystroke')) {
        const keystroke: Sample[] = [];
        let state: WorkspaceState = w.initial;
        for (let run = 0; run < options.runs; run++) {
          state = w.typed(state, typedText[run % typedText.length]);
          keystroke.push(await both(cached, w.prompt(state)));
        }
        record('warm_keystroke', context, keystroke);
      }

      const scenarioFrom = async (name: string, change: (run: number) => WorkspaceState) => {
        if (!want(name)) return;
        const samples: Sample[] = [];
        for (let run = 0; run < options.runs; run++) {
          heedRun(cached, p0);
          await peer?.session.ttftMs(p0);
          samples.push(await both(cached, w.prompt(change(run))));
        }
        record(name, context, samples);
      };
      await scenarioFrom('warm_line', (run) => w.lineChanged(w.initial, w.initial.active, w.initial.cursor, 6 + run, `edit ${run}`));
      const middle = w.middlePath();
      const middleText = w.initial.texts.get(middle)!;
      await scenarioFrom('warm_middle_edit', (run) => w.lineChanged(w.initial, middle, Math.floor(middleText.length / 2), run, `edit ${run}`));

      // A file not completed in before: its part of the prompt is new (the cursor moves
      // each run, so each run's cursor part is new too); the workspace part is shared.
      const other = w.switched(w.initial);
      const otherLength = other.texts.get(other.active)!.length;
      if (want('open_file')) {
        const opened: Sample[] = [];
        for (let run = 0; run < options.runs; run++) {
          heedRun(cached, p0);
          await peer?.session.ttftMs(p0);
          opened.push(await both(cached, w.prompt({ ...other, cursor: Math.floor((otherLength * (run + 1)) / (options.runs + 2)) })));
        }
        record('open_file', context, opened);
      }

      // Back and forth between two files completed in before.
      if (want('switch_file')) {
        const pa = p0;
        const pb = w.prompt(other);
        heedRun(cached, pb);
        const switched: Sample[] = [];
        await peer?.session.ttftMs(pb);
        for (let run = 0; run < options.runs; run++) switched.push(await both(cached, run % 2 === 0 ? pa : pb));
        record('switch_file', context, switched);
      }

      // Restart: the latest prompt saved as the server saves it, read into a new cache (the
      // read and its checksums are timed), then the same prompt (the editor reopened at the
      // same place) or one with the cursor elsewhere in the file (its cursor part is new).
      const file = join(work, `prefix-${context}.heedkv`);
      heedRun(cached, p0);
      const { tokens, bytes } = cached.prefixCache!.save(file, key, p0, p0.length);
      const initialLength = w.initial.texts.get(w.initial.active)!.length;
      for (const [scenario, prompt] of [
        ['restart_persisted', (_run: number) => p0],
        ['restart_persisted_moved', (run: number) => w.prompt({ ...w.initial, cursor: Math.floor((initialLength * (run + 1)) / (options.runs + 2)) })],
      ] as const) {
        if (!want(scenario)) continue;
        const restarted: Sample[] = [];
        for (let run = 0; run < options.runs; run++) {
          const ids = prompt(run);
          const t0 = performance.now();
          const after = fresh();
          after.prefixCache!.load(file, key, after.sequence.segmentHeads);
          const readMs = performance.now() - t0;
          const r = heedRun(after, ids);
          restarted.push({ heed: readMs + r.heed, computed: r.computed });
        }
        record(scenario, context, restarted, { prefix_tokens: tokens, prefix_file_bytes: bytes, note: 'the saved prompt read and checked, then the prompt' });
      }
      appendRecord(options.out, {
        metric: 'kv_memory_mb',
        context_tokens: context,
        kv: kvLabel(model.kv),
        model: model.name,
        ...measured([(cached.prefixCache!.tree.bytes + cached.sequence.kvBytes) / 2 ** 20]),
        commit,
        tree_tokens: cached.prefixCache!.tree.tokens,
        tree_nodes: cached.prefixCache!.tree.nodeCount,
        note: 'prefix tree and sequence KV after the scenarios above',
      });
    }
    appendRecord(options.out, { metric: 'peak_rss_mb', kv: kvLabel(model.kv), model: model.name, ...measured([process.resourceUsage().maxRSS / 1024]), commit, note: 'whole process, llama.cpp included when measured' });
  } finally {
    await peer?.dispose();
    await model.dispose();
    rmSync(work, { recursive: true, force: true });
  }
}
