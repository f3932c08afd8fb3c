// SVG line charts of benchmark records (EVAL.md's result records): for each metric that
// is measured at several context lengths, median against context tokens (log scale), one
// line per configuration (the record's other fields: model, kv, weights, threads, …), the
// min–max range as a band. Plain SVG, no dependencies.

export interface BenchRecord {
  metric: string;
  context_tokens?: number;
  median: number;
  min?: number;
  max?: number;
  [field: string]: unknown;
}

const metricTitles: Record<string, string> = {
  prefill_tps: 'Prefill, tokens/s',
  decode_tps: 'Decode, tokens/s',
  ttft_ms: 'Time to first token, ms',
  kv_bytes_per_token: 'KV cache, bytes per context token',
  peak_rss_mb: 'Peak RSS, MB',
};

/** Fields that vary between runs of one configuration, or are the measurement itself. */
const notConfiguration = new Set(['metric', 'context_tokens', 'median', 'min', 'max', 'runs', 'commit', 'load_avg_1m', 'step_ms_median', 'note', 'decode_tokens', 'prompt_tokens', 'workspace_tokens', 'computed_tokens_median', 'prefix_tokens', 'prefix_file_bytes', 'tree_tokens', 'tree_nodes']);

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

function configurationOf(record: BenchRecord): string {
  return Object.keys(record)
    .filter((k) => !notConfiguration.has(k))
    .sort()
    // A value's parenthesized description (a peer's build) is in the record, not the legend.
    .map((k) => `${k}=${String(record[k]).split(' (')[0]}`)
    .join(', ');
}

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
    const series = new Map<string, Map<number, BenchRecord>>();
    for (const r of rows) {
      const key = configurationOf(r);
      if (!series.has(key)) series.set(key, new Map());
      series.get(key)!.set(r.context_tokens!, r);
    }
    const contexts = [...new Set(rows.map((r) => r.context_tokens!))].sort((a, b) => a - b);
    if (contexts.length < 2) continue;
    charts.set(metric, chart(metric, title, contexts, series));
  }
  return charts;
}

function chart(metric: string, title: string, contexts: number[], series: Map<string, Map<number, BenchRecord>>): string {
  const width = 880;
  const plotTop = 48;
  const plotLeft = 72;
  const plotWidth = 440;
  const plotHeight = 280;
  const values = [...series.values()].flatMap((s) => [...s.values()].flatMap((r) => [r.max ?? r.median, r.min ?? r.median]));
  const yMax = niceMax(Math.max(...values));
  // Values over more than two decades (milliseconds from a keystroke to a cold prompt) on a log axis.
  const positive = values.filter((v) => v > 0);
  const decadeMin = positive.length > 0 ? Math.floor(Math.log10(Math.min(...positive))) : 0;
  const decadeMax = Math.ceil(Math.log10(yMax));
  const logY = positive.length === values.length && decadeMax - decadeMin > 2;
  const logMin = Math.log2(contexts[0]);
  const logMax = Math.log2(contexts[contexts.length - 1]);
  const x = (c: number) => plotLeft + ((Math.log2(c) - logMin) / (logMax - logMin)) * plotWidth;
  const y = (v: number) => plotTop + plotHeight - (logY ? (Math.log10(v) - decadeMin) / (decadeMax - decadeMin) : v / yMax) * plotHeight;
  const out: string[] = [];
  const height = Math.max(plotTop + plotHeight + 56, plotTop + 20 * series.size + 40);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${plotLeft}" y="24" font-size="15">${escapeXml(`${metricTitles[metric] ?? metric} — ${title}`)}</text>`);
  const ticks = logY ? Array.from({ length: decadeMax - decadeMin + 1 }, (_, i) => 10 ** (decadeMin + i)) : Array.from({ length: 6 }, (_, i) => (yMax * i) / 5);
  if (logY) out.push(`<text x="${plotLeft}" y="${plotTop - 8}" font-size="10">log scale</text>`);
  for (const v of ticks) {
    out.push(`<line x1="${plotLeft}" x2="${plotLeft + plotWidth}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    out.push(`<text x="${plotLeft - 6}" y="${y(v) + 4}" text-anchor="end">${Number(v.toPrecision(4)).toLocaleString('en-US')}</text>`);
  }
  for (const c of contexts) {
    out.push(`<line x1="${x(c)}" x2="${x(c)}" y1="${plotTop}" y2="${plotTop + plotHeight}" stroke="#eee"/>`);
    out.push(`<text x="${x(c)}" y="${plotTop + plotHeight + 16}" text-anchor="middle">${c % 1024 === 0 ? `${c / 1024}k` : c.toLocaleString('en-US')}</text>`);
  }
  out.push(`<text x="${plotLeft + plotWidth / 2}" y="${plotTop + plotHeight + 36}" text-anchor="middle">context tokens (log scale)</text>`);
  [...series.entries()].forEach(([key, points], i) => {
    const color = palette[i % palette.length];
    const sorted = [...points.values()].sort((a, b) => a.context_tokens! - b.context_tokens!);
    if (sorted.every((r) => r.min !== undefined && r.max !== undefined) && sorted.length > 1) {
      const band = [...sorted.map((r) => `${x(r.context_tokens!)},${y(r.max!)}`), ...[...sorted].reverse().map((r) => `${x(r.context_tokens!)},${y(r.min!)}`)];
      out.push(`<polygon points="${band.join(' ')}" fill="${color}" opacity="0.12"/>`);
    }
    out.push(`<polyline points="${sorted.map((r) => `${x(r.context_tokens!)},${y(r.median)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const r of sorted) out.push(`<circle cx="${x(r.context_tokens!)}" cy="${y(r.median)}" r="3" fill="${color}"><title>${escapeXml(`${key}: ${r.median.toFixed(1)} at ${r.context_tokens}`)}</title></circle>`);
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
function legendLabel(key: string, series: Map<string, Map<number, BenchRecord>>): string {
  const keys = [...series.keys()].map((k) => k.split(', '));
  const parts = key.split(', ');
  const differing = parts.filter((part) => keys.some((other) => !other.includes(part)));
  return (differing.length > 0 ? differing : parts).join(', ');
}
