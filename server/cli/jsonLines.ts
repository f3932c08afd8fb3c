// Reading JSON-lines files (result records, eval outputs): each non-blank line parsed,
// with its 1-based line number; a line that is not JSON is an error naming file and line.

import { readFileSync } from 'node:fs';

export function readJsonLines(file: string): Array<{ lineNumber: number; value: unknown }> {
  const rows: Array<{ lineNumber: number; value: unknown }> = [];
  for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      rows.push({ lineNumber: i + 1, value: JSON.parse(line) });
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  }
  return rows;
}
