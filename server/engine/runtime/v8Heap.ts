// V8 heap settings for a thread that runs the model.
//
// Every pass returns its outputs as new typed arrays (ortRuntime.ts). A decode step that
// gives evidence under the head-aware cache also returns its full heads' attention-mass
// sums, [heads, capacity] fp32: 418 KB a step at 13k cached tokens, about 10 MB over a
// 24-token completion. V8 counts that memory against its old generation's allocation
// limit, which starts low for a JS heap as small as this one (about 14 MB live), so such
// completions set off about one full mark-compact each, 3–8 ms on this machine's two
// cores, within the completion. A plain completion (3 MB of outputs) set off one in
// twenty. Starting the old generation at 64 MB leaves room for a few completions' garbage
// between collections: measured at 16k with 60 completions of each kind, the mark-compacts
// in completions with evidence fell from 24 (129 ms) to 11–13 (21–26 ms), and evidence's
// paired cost from 15.8–19.7 ms to 7.5–11.3 ms (bench/results/README.md). 32 MB was not
// enough (38 collections); 128 MB measured the same as 64.
//
// V8 reads the setting when it sets up an isolate's heap. A process gets it from its
// command line: the extension starts the language server with it, and `heed bench`, which
// runs the model on its main thread, runs itself again with it (`relaunchArgs`); workers
// inherit it. Elsewhere (the CLI's other commands, tests) `applyToNewThreads` sets it at
// run time for the workers started afterwards. That is only done where the command line
// lacks it: some embedders of V8 freeze its flags once it runs, and setting one then aborts
// the process.

import { setFlagsFromString } from 'node:v8';

export const modelHeapFlags: readonly string[] = ['--initial-old-space-size=64'];

/** Sets the flags this process's command line lacks, for the isolates created from now on (a Worker's). */
export function applyToNewThreads(): void {
  for (const flag of modelHeapFlags) if (!process.execArgv.includes(flag)) setFlagsFromString(flag);
}

/**
 * The arguments to run this process's script again under `execPath` with the flags, or
 * undefined when its command line already has them (so a relaunched process does not
 * relaunch again). `argv` is process.argv: [execPath, script, ...args].
 */
export function relaunchArgs(execArgv: readonly string[], argv: readonly string[]): string[] | undefined {
  const missing = modelHeapFlags.filter((flag) => !execArgv.includes(flag));
  if (missing.length === 0 || argv.length < 2) return undefined;
  return [...execArgv, ...missing, ...argv.slice(1)];
}
