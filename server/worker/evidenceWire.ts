// A completion's evidence as it crosses from the worker to the language server: each list of
// scored lines as three typed arrays instead of an object per line. At 16k tokens evidence
// scores about 900 lines, and postMessage's structured clone of that many objects took
// 0.14 ms to write and 0.26 ms to read (v8.serialize, the same serializer), on the
// completion's way to the editor; typed arrays are copied whole.

import type { PromptEvidence } from '../engine/evidence';
import type { PartLineScore } from '../engine/evidenceLines';

/** Scored lines in their order: line i is (part[i], line[i]) with score[i]. */
export interface PackedLines {
  part: Int32Array;
  line: Int32Array;
  score: Float64Array;
}

/** PromptEvidence with its lines packed. */
export type PackedEvidence = Omit<PromptEvidence, 'lines' | 'perHead' | 'promptLines'> & {
  lines: PackedLines;
  perHead: Array<{ layer: number; kvHead: number; lines: PackedLines }>;
  promptLines?: PackedLines;
};

export function packLines(lines: readonly PartLineScore[]): PackedLines {
  const packed = { part: new Int32Array(lines.length), line: new Int32Array(lines.length), score: new Float64Array(lines.length) };
  lines.forEach(({ part, line, score }, i) => {
    packed.part[i] = part;
    packed.line[i] = line;
    packed.score[i] = score;
  });
  return packed;
}

export function unpackLines({ part, line, score }: PackedLines): PartLineScore[] {
  if (line.length !== part.length || score.length !== part.length) throw new Error(`packed evidence lines of unequal lengths: ${part.length}, ${line.length}, ${score.length}`);
  return Array.from(part, (p, i) => ({ part: p, line: line[i], score: score[i] }));
}

export function packEvidence(evidence: PromptEvidence): PackedEvidence {
  const { promptLines, ...rest } = evidence;
  return { ...rest, lines: packLines(evidence.lines), perHead: evidence.perHead.map((head) => ({ ...head, lines: packLines(head.lines) })), ...(promptLines ? { promptLines: packLines(promptLines) } : {}) };
}

export function unpackEvidence(evidence: PackedEvidence): PromptEvidence {
  const { promptLines, ...rest } = evidence;
  return { ...rest, lines: unpackLines(evidence.lines), perHead: evidence.perHead.map((head) => ({ ...head, lines: unpackLines(head.lines) })), ...(promptLines ? { promptLines: unpackLines(promptLines) } : {}) };
}
