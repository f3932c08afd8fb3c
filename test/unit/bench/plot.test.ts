// SVG charts of benchmark records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plotRecords } from '../../../server/bench/plot';

const record = (metric: string, context: number, median: number, threads: number) => ({
  metric, context_tokens: context, median, min: median * 0.9, max: median * 1.1, runs: 3, commit: 'abc', model: 'm', threads, load_avg_1m: 1.5,
});

test('one chart per metric swept over contexts, one line per configuration, legend of what differs', () => {
  const charts = plotRecords(
    [record('decode_tps', 1024, 150, 2), record('decode_tps', 4096, 90, 2), record('decode_tps', 1024, 80, 1), record('decode_tps', 4096, 50, 1), record('prefill_tps', 512, 3000, 2), { metric: 'load_ms', median: 800 }],
    'test run',
  );
  assert.deepEqual([...charts.keys()], ['decode_tps'], 'prefill has one context only and load_ms none: no chart');
  const svg = charts.get('decode_tps')!;
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.equal(svg.match(/<polyline /g)?.length, 2);
  assert.match(svg, />threads=2</);
  assert.match(svg, />threads=1</);
  assert.doesNotMatch(svg, />model=m</, 'fields shared by every line stay out of the legend');
  assert.match(svg, /Decode, tokens\/s — test run/);
});

test('a re-run of a configuration replaces its earlier point', () => {
  const svg = plotRecords([record('decode_tps', 1024, 150, 2), record('decode_tps', 4096, 90, 2), record('decode_tps', 4096, 95, 2)], 't').get('decode_tps')!;
  assert.equal(svg.match(/<circle /g)?.length, 2);
  assert.match(svg, /: 95 at 4k</);
});

test('quality records with their KV bytes: score against the share of the dense cache, one line per distance', () => {
  const run = (kv: string, share: number, scores: number[]) =>
    [4096, 16000].map((distance, i) => ({
      metric: 'needle_accuracy', scenario: 'needle', context_tokens: distance, median: scores[i], cases: 10, model: 'm', kv,
      kv_params: kv === 'dense' ? {} : { retrieval_ratio: share }, kv_bytes_median: 1000 * share * (i + 1), ttft_ms_median: 5, commit: 'abc',
    }));
  const charts = plotRecords([...run('dense', 1, [0.5, 0.4]), ...run('head-aware', 0.25, [0.5, 0.3]), ...run('head-aware', 0.5, [0.5, 0.4]), ...run('head-aware+int8', 0.07, [0.5, 0.3])], 'budget');
  assert.ok(charts.has('needle_accuracy'), 'accuracy against distance, per policy');
  const svg = charts.get('needle_accuracy-vs-kv-budget')!;
  assert.equal(svg.match(/<polyline /g)?.length, 4, 'per distance, a line for fp32 KV and one for int8 KV');
  assert.equal(svg.match(/<circle /g)?.length, 8, 'a point per policy');
  assert.match(svg, />context_tokens=16000, fp32 KV</);
  assert.match(svg, />context_tokens=4096, int8 KV</);
  assert.match(svg, /\(head-aware \{&quot;retrieval_ratio&quot;:0\.25\}\): 0\.3 at 25 %</);
  assert.match(svg, /Needle accuracy against KV budget — budget/);
  // A line with no dense point has nothing to be a share of.
  assert.equal(plotRecords(run('head-aware', 0.25, [0.5, 0.3]), 'x').has('needle_accuracy-vs-kv-budget'), false);
});
