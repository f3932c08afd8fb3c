// SVG line charts of benchmark records (EVAL.md's result records): for each metric that
// is measured at several context lengths, median against context tokens (log scale), one
// line per configuration (the record's other fields: model, kv, weights, threads, …), the
// min–max range as a band. Quality records that carry their KV bytes (heed eval
// --records-out) also get a chart of score against KV budget: each KV policy's bytes as a
// share of the dense cache's on the same cases, one line per score (needles at each
// distance, exact match per kind). Plain SVG, no dependencies.

export interface BenchRecord {
  metric: string;
  context_tokens?: number;
  median: number;
  min?: number;
  max?: number;
  [field: string]: unknown;
}

const metricTitles: Record<string, string> = {
  needle_accuracy: 'Needle accuracy',
  exact_match: 'Exact match',
  edit_similarity: 'Edit similarity',
  prefill_tps: 'Prefill, tokens/s',
  decode_tps: 'Decode, tokens/s',
  ttft_ms: 'Time to first token, ms',
  kv_bytes_per_token: 'KV cache, bytes per context token',
  peak_rss_mb: 'Peak RSS, MB',
};

/** Fields that vary between runs of one configuration, or are the measurement itself. */
const notConfiguration = new Set([
  ...['metric', 'context_tokens', 'median', 'min', 'max', 'runs', 'commit', 'load_avg_1m', 'step_ms_median', 'note', 'decode_tokens', 'prompt_tokens', 'workspace_tokens'],
  ...['computed_tokens_median', 'prefix_tokens', 'prefix_file_bytes', 'tree_tokens', 'tree_nodes', 'cases', 'kv_bytes_median', 'ttft_ms_median'],
]);

/** Quality metrics: plotted against the KV budget when their records carry KV bytes. */
const qualityMetrics = new Set(['needle_accuracy', 'exact_match', 'edit_similarity']);

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

function configurationOf(record: BenchRecord, leaveOut: Set<string> = notConfiguration): string {
  return Object.keys(record)
    .filter((k) => !leaveOut.has(k))
    .sort()
    // A value's parenthesized description (a peer's build) is in the record, not the legend.
    .map((k) => `${k}=${formatValue(record[k]).split(' (')[0]}`)
    .join(', ');
}

function formatValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** A chart's horizontal axis: where a value goes (0 to 1 across the plot) and its tick labels. */
interface XAxis {
  ticks: number[];
  position(value: number): number;
  label(value: number): string;
  title: string;
}

type Series = Map<string, Array<{ x: number; record: BenchRecord }>>;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** One SVG per metric measured at two or more context lengths: metric → SVG text. */
export function plotRecords(records: BenchRecord[], title: string): Map<string, string> {
  const byMetric = new Map<string, BenchRecord[]>();
  for (const r of records) if (typeof r.context_tokens === 'number' && Number.isFinite(r.median)) byMetric.set(r.metric, [...(byMetric.get(r.metric) ?? []), r]);
  const charts = new Map<string, string>();
  for (const [metric, rows] of byMetric) {
    // The last record of a configuration at a context wins (re-runs append).
    const byConfiguration = new Map<string, Map<number, BenchRecord>>();
    for (const r of rows) {
      const key = configurationOf(r);
      if (!byConfiguration.has(key)) byConfiguration.set(key, new Map());
      byConfiguration.get(key)!.set(r.context_tokens!, r);
    }
    const contexts = [...new Set(rows.map((r) => r.context_tokens!))].sort((a, b) => a - b);
    if (contexts.length < 2) continue;
    const series: Series = new Map([...byConfiguration].map(([key, points]) => [key, [...points].map(([x, record]) => ({ x, record }))]));
    const [logMin, logMax] = [Math.log2(contexts[0]), Math.log2(contexts[contexts.length - 1])];
    const axis: XAxis = {
      ticks: contexts,
      position: (c) => (Math.log2(c) - logMin) / (logMax - logMin),
      label: (c) => (c % 1024 === 0 ? `${c / 1024}k` : c.toLocaleString('en-US')),
      title: 'context tokens (log scale)',
    };
    charts.set(metric, chart(`${metricTitles[metric] ?? metric} — ${title}`, axis, series));
  }
  for (const [metric, svg] of plotBudget(records, title)) charts.set(metric, svg);
  return charts;
}

/**
 * Score against KV budget: for each quality metric and (scenario, context), the KV policies
 * measured on it at their bytes as a share of the dense policy's on the same cases (none
 * without a dense point), as two lines: fp32 KV and int8 KV. Keyed `${metric}-vs-kv-budget`.
 */
function plotBudget(records: BenchRecord[], title: string): Map<string, string> {
  const charts = new Map<string, string>();
  const withBytes = records.filter((r) => qualityMetrics.has(r.metric) && typeof r.kv_bytes_median === 'number' && typeof r.context_tokens === 'number');
  const leaveOut = new Set([...notConfiguration, 'kv', 'kv_params']);
  for (const metric of new Set(withBytes.map((r) => r.metric))) {
    const lines = new Map<string, Map<string, BenchRecord>>(); // line → policy → its last record
    for (const r of withBytes.filter((r) => r.metric === metric)) {
      const line = `${configurationOf(r, leaveOut)}, context_tokens=${r.context_tokens}`;
      if (!lines.has(line)) lines.set(line, new Map());
      lines.get(line)!.set(`${r.kv} ${formatValue(r.kv_params ?? {})}`, r);
    }
    const series: Series = new Map();
    for (const [line, policies] of lines) {
      const dense = [...policies.values()].find((r) => r.kv === 'dense');
      if (!dense || policies.size < 2) continue;
      for (const int8 of [false, true]) {
        const family = [...policies.values()].filter((r) => String(r.kv).endsWith('+int8') === int8);
        if (family.length === 0) continue;
        series.set(`${line}, ${int8 ? 'int8' : 'fp32'} KV`, family.map((record) => ({ x: (100 * (record.kv_bytes_median as number)) / (dense.kv_bytes_median as number), record })));
      }
    }
    if (series.size === 0) continue;
    const axis: XAxis = { ticks: [0, 20, 40, 60, 80, 100], position: (share) => share / 100, label: (share) => `${share} %`, title: 'KV bytes, share of the dense cache on the same cases' };
    charts.set(`${metric}-vs-kv-budget`, chart(`${metricTitles[metric] ?? metric} against KV budget — ${title}`, axis, series));
  }
  return charts;
}

function chart(heading: string, axis: XAxis, series: Series): string {
  const width = 880;
  const plotTop = 48;
  const plotLeft = 72;
  const plotWidth = 440;
  const plotHeight = 280;
  const values = [...series.values()].flatMap((s) => s.flatMap(({ record: r }) => [r.max ?? r.median, r.min ?? r.median]));
  const yMax = niceMax(Math.max(...values));
  // Values over more than two decades (milliseconds from a keystroke to a cold prompt) on a log axis.
  const positive = values.filter((v) => v > 0);
  const decadeMin = positive.length > 0 ? Math.floor(Math.log10(Math.min(...positive))) : 0;
  const decadeMax = Math.ceil(Math.log10(yMax));
  const logY = positive.length === values.length && decadeMax - decadeMin > 2;
  const x = (value: number) => plotLeft + axis.position(value) * plotWidth;
  const y = (v: number) => plotTop + plotHeight - (logY ? (Math.log10(v) - decadeMin) / (decadeMax - decadeMin) : v / yMax) * plotHeight;
  const out: string[] = [];
  const height = Math.max(plotTop + plotHeight + 56, plotTop + 20 * series.size + 40);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${plotLeft}" y="24" font-size="15">${escapeXml(heading)}</text>`);
  const ticks = logY ? Array.from({ length: decadeMax - decadeMin + 1 }, (_, i) => 10 ** (decadeMin + i)) : Array.from({ length: 6 }, (_, i) => (yMax * i) / 5);
  if (logY) out.push(`<text x="${plotLeft}" y="${plotTop - 8}" font-size="10">log scale</text>`);
  for (const v of ticks) {
    out.push(`<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${plotLeft - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toPrecision(4)).toLocaleString('en-US')}</text>`);
  }
  for (const c of axis.ticks) {
    out.push(`<line x1="${x(c)}" x2="${x(c)}" y1="${plotTop}" y2="${plotTop + plotHeight}" stroke="#eee"/>`);
    out.push(`<text x="${x(c)}" y="${plotTop + plotHeight + 16}" text-anchor="middle">${escapeXml(axis.label(c))}</text>`);
  }
  out.push(`<text x="${plotLeft + plotWidth / 2}" y="${plotTop + plotHeight + 36}" text-anchor="middle">${escapeXml(axis.title)}</text>`);
  [...series.entries()].forEach(([key, points], i) => {
    const color = palette[i % palette.length];
    const sorted = [...points].sort((a, b) => a.x - b.x);
    if (sorted.every(({ record: r }) => r.min !== undefined && r.max !== undefined) && sorted.length > 1) {
      const band = [...sorted.map((p) => `${x(p.x)},${y(p.record.max!)}`), ...[...sorted].reverse().map((p) => `${x(p.x)},${y(p.record.min!)}`)];
      out.push(`<polygon points="${band.join(' ')}" fill="${color}" opacity="0.12"/>`);
    }
    out.push(`<polyline points="${sorted.map((p) => `${x(p.x)},${y(p.record.median)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of sorted) {
      const what = `${key}${typeof p.record.kv === 'string' ? ` (${p.record.kv} ${formatValue(p.record.kv_params ?? '')})` : ''}`;
      out.push(`<circle cx="${x(p.x)}" cy="${y(p.record.median)}" r="3" fill="${color}"><title>${escapeXml(`${what}: ${Number(p.record.median.toPrecision(4))} at ${axis.label(Number(p.x.toFixed(1)))}`)}</title></circle>`);
    }
    const legendY = plotTop + 8 + i * 20;
    out.push(`<line x1="${plotLeft + plotWidth + 16}" x2="${plotLeft + plotWidth + 36}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`);
    const label = legendLabel(key, series);
    const shown = label.length > 56 ? `${label.slice(0, 55)}…` : label;
    out.push(`<text x="${plotLeft + plotWidth + 42}" y="${legendY + 4}" font-size="10">${escapeXml(shown)}<title>${escapeXml(label)}</title></text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The legend shows only the fields that differ between the chart's lines. */
function legendLabel(key: string, series: Series): string {
  const keys = [...series.keys()].map((k) => k.split(', '));
  const parts = key.split(', ');
  const differing = parts.filter((part) => keys.some((other) => !other.includes(part)));
  return (differing.length > 0 ? differing : parts).join(', ');
}
