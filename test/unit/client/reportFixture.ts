// An evidence report for the client's rendering tests: hostile and multi-byte text, a quote
// in a path, spans out of order, and a heat strip of known length.

import type { EvidenceLine, EvidenceReport } from '../../../server/protocol';

export const hostileUri = 'file:///w/src/we%22ird%20%3Cname%3E.ts';
export const hostilePath = 'src/we"ird <name>.ts';

const line = (uri: string, path: string, lineNo: number, text: string, score: number): EvidenceLine => ({ uri, path, line: lineNo, text, score });

export function reportFixture(): EvidenceReport {
  const config = 'file:///w/src/config.ts';
  return {
    id: 'c-42',
    kind: 'completion',
    text: 'retryDelayMs: 250, // <script>alert(1)</script> & "done"',
    uri: 'file:///w/src/client.ts',
    line: 9,
    character: 4,
    heads: '8 retrieval KV heads of 32 (head-pattern.json)',
    spans: [
      // The weaker span first: the panel must rank them.
      { uri: hostileUri, path: hostilePath, startLine: 3, endLine: 4, score: 0.1, lines: [line(hostileUri, hostilePath, 3, '</div><div onclick="x()">', 0.06), line(hostileUri, hostilePath, 4, "const s = 'it''s' && a < b;", 0.04)] },
      { uri: config, path: 'src/config.ts', startLine: 0, endLine: 1, score: 0.5, lines: [line(config, 'src/config.ts', 0, 'export const retryDelayMs = 250; // 日本語 — naïve café 🚀', 0.4), line(config, 'src/config.ts', 1, '<script>alert(1)</script>', 0.1)] },
    ],
    heat: [
      { uri: config, path: 'src/config.ts', firstLine: 0, scores: [0.4, 0.1, 0, 0, 0.01] },
      { uri: hostileUri, path: hostilePath, firstLine: 2, scores: [0, 0.06, 0.04] },
    ],
    perHead: [
      { layer: 3, kvHead: 1, lines: [line(config, 'src/config.ts', 0, 'export const retryDelayMs = 250; // 日本語 — naïve café 🚀', 0.7)] },
      { layer: 5, kvHead: 0, lines: [] },
    ],
    promptTokens: 1234,
    generatedTokens: 7,
    evidenceMs: 3.6,
    totalMs: 120.2,
  };
}
