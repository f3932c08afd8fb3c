// The heed command line, run as a user runs it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const heed = join(root, 'bin', 'heed.js');
const work = mkdtempSync(join(tmpdir(), 'heed-cli-'));
const model = join(work, 'tiny');
const env = { ...process.env, XDG_CACHE_HOME: join(work, 'cache') };

before(() => {
  execFileSync(process.execPath, [heed, 'make-tiny-model', '--out', model], { env });
});
after(() => rmSync(work, { recursive: true, force: true }));

test('--help lists the commands; an unknown command fails with the list', () => {
  const help = execFileSync(process.execPath, [heed, '--help'], { encoding: 'utf8' });
  for (const command of ['generate', 'bench', 'make-tiny-model', 'make-random-model']) assert.match(help, new RegExp(`^  ${command} `, 'm'));
  const unknown = spawnSync(process.execPath, [heed, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});

test('generate --json reports the completion with its log-probabilities, the same on every run', () => {
  const run = () =>
    JSON.parse(
      execFileSync(process.execPath, [heed, 'generate', '--model', model, '--prompt', 'const total = items.', '--max-tokens', '6', '--json'], { encoding: 'utf8', env }),
    );
  const first = run();
  assert.equal(first.tokens.length, 6);
  assert.equal(first.logprobs.length, 6);
  assert.ok(first.logprobs.every((p: number) => p <= 0));
  assert.deepEqual(run().tokens, first.tokens);
});

test('a missing model folder is a clear error', () => {
  const missing = spawnSync(process.execPath, [heed, 'generate', '--model', join(work, 'nope'), '--prompt', 'x'], { encoding: 'utf8', env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /nope: model folder does not exist/);
});

test('Ctrl-C cancels a generation between forward passes', async () => {
  const child = spawn(process.execPath, [heed, 'generate', '--model', model, '--prompt', 'x', '--max-tokens', '8000', '--no-graph-cache'], { env });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // The worker has started generating once the model is loaded; give it a moment.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const started = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 130, stderr);
  assert.match(stderr, /cancelled/);
  assert.ok(Date.now() - started < 2000, 'cancellation should take effect within a forward pass or two');
});
