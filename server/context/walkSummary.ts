// What a walk of the workspace found, and the one log line that tells it.

import type { SkipReason } from './fileKinds';

export interface WalkSummary {
  files: number;
  usableChars: number;
  /** Entries skipped per reason; a skipped folder counts once. */
  skipped: Record<SkipReason, number>;
  /** Files looked at, skipped ones included. */
  filesSeen: number;
  /** The walk stopped at `maxFiles` files looked at. */
  truncated: boolean;
  elapsedMs: number;
}

const formatCount = (n: number) => n.toLocaleString('en-US');

/** One log line: what the walk found and what it skipped, per reason. */
export function describeWalk(summary: WalkSummary): string {
  const order: [SkipReason, string][] = [
    ['binary', 'binary'], ['minified', 'minified'], ['generated', 'generated'], ['lock', 'lock'], ['oversized', 'oversized'],
    ['unsupported', 'not source'], ['link', 'symbolic links'], ['ignored', 'ignored'],
  ];
  const skipped = order.filter(([reason]) => summary.skipped[reason] > 0).map(([reason, label]) => `${formatCount(summary.skipped[reason])} ${label}`);
  const size = summary.usableChars >= 1_000_000 ? `${(summary.usableChars / 1_000_000).toFixed(1)} MB` : `${Math.ceil(summary.usableChars / 1000)} KB`;
  return (
    `Workspace context: ${formatCount(summary.files)} files, ${size} usable` +
    (skipped.length > 0 ? `; skipped ${skipped.join(', ')} (a skipped folder counts once)` : '') +
    (summary.truncated ? `; stopped after looking at ${formatCount(summary.filesSeen)} files, the limit` : '') +
    ` (${summary.elapsedMs.toFixed(0)} ms)`
  );
}
