// heed eval-compare REF.jsonl RUN.jsonl...: how often other runs of heed eval on the same
// cases (another KV policy, weight format or model) predict exactly what the reference run
// predicts, beside each run's exact match. Cases are matched by id; a case that failed in
// either run (an "error" line) is left out and counted.

import { readJsonLines } from './jsonLines';

export const evalCompareUsage = 'heed eval-compare REF.jsonl RUN.jsonl [RUN.jsonl ...]';

interface Prediction {
  prediction: string;
  exact: boolean;
}

function readPredictions(file: string): Map<string, Prediction> {
  const predictions = new Map<string, Prediction>();
  for (const { value } of readJsonLines(file)) {
    const row = value as { id?: unknown; prediction?: unknown; exact_match?: unknown };
    if (typeof row.id === 'string' && typeof row.prediction === 'string') predictions.set(row.id, { prediction: row.prediction, exact: row.exact_match === true });
  }
  return predictions;
}

/** Per run: cases predicted in both, how many predictions equal the reference's, and each side's exact matches on those cases. */
export function comparePredictions(reference: Map<string, Prediction>, run: Map<string, Prediction>): { cases: number; same: number; referenceExact: number; runExact: number; leftOut: number } {
  let cases = 0;
  let same = 0;
  let referenceExact = 0;
  let runExact = 0;
  for (const [id, ref] of reference) {
    const other = run.get(id);
    if (!other) continue;
    cases++;
    same += Number(other.prediction === ref.prediction);
    referenceExact += Number(ref.exact);
    runExact += Number(other.exact);
  }
  const ids = new Set([...reference.keys(), ...run.keys()]);
  return { cases, same, referenceExact, runExact, leftOut: ids.size - cases };
}

export async function evalCompareCommand(args: string[]): Promise<number> {
  if (args.length < 2 || args.some((a) => a.startsWith('-'))) throw new Error(`usage: ${evalCompareUsage}`);
  const [referenceFile, ...runFiles] = args;
  const reference = readPredictions(referenceFile);
  console.log(`reference ${referenceFile}: ${reference.size} predictions`);
  console.log('run                                        cases  same as reference  exact (run / reference)  left out');
  for (const file of runFiles) {
    const c = comparePredictions(reference, readPredictions(file));
    console.log(`${file.padEnd(42)} ${String(c.cases).padStart(5)}  ${String(c.same).padStart(17)}  ${`${c.runExact} / ${c.referenceExact}`.padStart(23)}  ${String(c.leftOut).padStart(8)}`);
  }
  return 0;
}
