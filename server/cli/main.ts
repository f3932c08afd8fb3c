// The `heed` command line: the engine without the editor, for scripts, benchmarks and
// evals. Usage: heed <command> [options]; heed --help lists the commands.

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';
import { relaunchArgs } from '../engine/runtime/v8Heap';
import { generateCommand } from './generateCommand';
import { makeTinyModelCommand } from './makeTinyModelCommand';
import { benchCommand, makeRandomModelCommand } from './benchCommand';
import { evalCommand, evalUsage } from './evalCommand';
import { evalEvidenceCommand, evalEvidenceUsage } from './evalEvidenceCommand';
import { evalWhereCommand, evalWhereUsage } from './evalWhereCommand';
import { casesCommand, casesUsage } from './casesCommand';
import { convertCommand, convertUsage } from './convertCommand';
import { calibrateCommand, calibrateUsage } from './calibrateCommand';
import { kvUsage } from './cliArgs';
import { evalCompareCommand, evalCompareUsage } from './evalCompareCommand';

interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
  /** Runs the model on this thread (the others run it in the model worker, ModelHost): it needs the worker's heap settings (v8Heap.ts). */
  modelOnThisThread?: boolean;
}

const commands: Record<string, Command> = {
  generate: {
    summary: 'Continue a prompt with a model and print the completion.',
    usage: `heed generate --model DIR (--prompt TEXT | --prompt-file FILE) [--max-tokens N] [--temperature T] [--top-p P] [--seed N] [--stop S]... [--threads N] [--weights fp32|int8|int4] ${kvUsage} [--json] [--graph-cache DIR | --no-graph-cache]`,
    run: generateCommand,
  },
  eval: {
    summary: "Complete EVAL.md's JSONL cases, one greedy line each; predictions to --out, exact match / edit similarity / identifier match per kind.",
    usage: evalUsage,
    run: evalCommand,
  },
  'eval-compare': {
    summary: 'How often other runs of heed eval on the same cases predict what a reference run predicts (another KV policy, weight format or model), beside their exact matches.',
    usage: evalCompareUsage,
    run: evalCompareCommand,
  },
  'eval-evidence': {
    summary: "Evidence faithfulness on EVAL.md's JSONL cases: the completion's log-probability drop when its top-k evidence lines (retrieval heads, all heads) are removed, beside k random lines and the leave-one-out oracle; hit@k of the defining line on cross-file cases, and of the line holding the value on needle cases.",
    usage: evalEvidenceUsage,
    run: evalEvidenceCommand,
  },
  'eval-where': {
    summary: '"Where is …" questions over a workspace folder, asked as Heed: Ask asks them: where the line that answers each ranks among the spans of the question\'s own tokens and of question and answer together (hit@1, hit@3, mean reciprocal rank).',
    usage: evalWhereUsage,
    run: evalWhereCommand,
  },
  cases: {
    summary: 'Make completion cases (EVAL.md JSONL) from a folder of code: repo-level lines, needles at set token distances, or "where is NAME defined?" questions for heed eval-where.',
    usage: casesUsage,
    run: casesCommand,
  },
  calibrate: {
    summary: "Score every KV head on long-context copy tasks and write the model's head pattern (which heads keep every token, which only sinks + a window).",
    usage: calibrateUsage,
    run: calibrateCommand,
  },
  convert: {
    summary: 'Write a Qwen2 checkpoint folder as a GGUF file (f16) that llama.cpp loads with the same tokenizer.',
    usage: convertUsage,
    run: convertCommand,
  },
  bench: {
    summary: 'Measure the engine: cold prefill and decode tokens/s, KV bytes, peak RSS; JSON lines to --out. heed bench cache measures time to first token cold and warm over a workspace prompt (with --peer, llama.cpp keeping its longest common prefix); heed bench peer runs llama.cpp on the same model and ids in the same run; heed bench plot draws results (SVG per metric).',
    usage: `heed bench engine --model DIR ${kvUsage} [--prefill 512,2048,8192|none] [--decode 1024,4096,16384|none] [--decode-tokens 64] [--runs 3] [--threads 1,2] [--chunk N] [--out FILE] [--weights fp32|int8|int4] [--int4-compute int8|fp32] [--flash-past off|TOKENS,PAST[/…]] [--graph-cache DIR | --no-graph-cache] | heed bench cache --model DIR [--contexts 2048,8192,16384] [--runs 5] [--kv …] [--workspace DIR] [--memory-limit-mb 2048] [--scenarios cold,warm_keystroke,…] [--peer] [--out FILE] | heed bench peer --model DIR [--kv …] [--prefill 512,2048,8192] [--decode 1024,4096] [--runs 3] [--threads 2] [--out FILE] | heed bench plot --in FILE.jsonl [--out-dir DIR] [--title T]`,
    run: benchCommand,
    modelOnThisThread: true,
  },
  'make-random-model': {
    summary: 'Write a random-weight checkpoint of a named shape (heed-30m, qwen2.5-coder-0.5b) for benchmarks.',
    usage: 'heed make-random-model --shape NAME --out DIR [--seed N]',
    run: makeRandomModelCommand,
  },
  'make-tiny-model': {
    summary: 'Write the small deterministic test model (a Hugging Face folder) that tests load in a second.',
    usage: 'heed make-tiny-model --out DIR [--corpus DIR]',
    run: makeTinyModelCommand,
  },
};

function help(): string {
  const lines = ['Usage: heed <command> [options]', '', 'Commands:'];
  for (const [name, command] of Object.entries(commands)) lines.push(`  ${name.padEnd(18)}${command.summary}`, `  ${''.padEnd(18)}${command.usage}`);
  lines.push('', 'heed <command> --help shows one command.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv.slice(0, 1), options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' } }, allowPositionals: true, strict: false });
  if (values.version) {
    console.log('heed 0.1.0');
    return 0;
  }
  const name = positionals[0];
  if (!name || values.help) {
    console.log(help());
    return name || values.help ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    console.error(`heed: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(1);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  if (command.modelOnThisThread) {
    const relaunch = relaunchArgs(process.execArgv, process.argv);
    if (relaunch) return runAgain(relaunch);
  }
  return command.run(rest);
}

/**
 * This command again in a second node process with `args` (the heap settings V8 takes only
 * at start), its exit code passed on; SIGINT and SIGTERM sent to this process go on to it.
 */
function runAgain(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: 'inherit' });
    const forwarded = ['SIGINT', 'SIGTERM'] as const;
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    for (const signal of forwarded) process.on(signal, forward);
    const done = (code: number) => {
      for (const signal of forwarded) process.removeListener(signal, forward);
      resolve(code);
    };
    child.on('error', (error) => {
      console.error(`heed: could not start ${process.execPath}: ${error.message}`);
      done(1);
    });
    child.on('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`heed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
