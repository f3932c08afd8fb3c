import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { modelHeapFlags, relaunchArgs } from '../../../server/engine/runtime/v8Heap';

test('relaunchArgs adds the missing heap flags after the node options, before the script and its arguments', () => {
  const args = relaunchArgs(['--enable-source-maps'], ['/usr/bin/node', '/x/cli.js', 'bench', '--runs', '3']);
  assert.deepEqual(args, ['--enable-source-maps', ...modelHeapFlags, '/x/cli.js', 'bench', '--runs', '3']);
});

test('relaunchArgs gives nothing when the command line already has the flags, so a relaunched process runs', () => {
  assert.equal(relaunchArgs([...modelHeapFlags], ['/usr/bin/node', '/x/cli.js']), undefined);
  assert.equal(relaunchArgs(['--inspect', ...modelHeapFlags], ['/usr/bin/node', '/x/cli.js', 'eval']), undefined);
});

test('relaunchArgs gives nothing without a script to run again (node -e, a REPL)', () => {
  assert.equal(relaunchArgs([], ['/usr/bin/node']), undefined);
});

test('the heap flags are V8 options this node accepts', () => {
  for (const flag of modelHeapFlags) assert.match(flag, /^--[a-z-]+=\d+$/);
  assert.equal(execFileSync(process.execPath, [...modelHeapFlags, '-e', 'process.stdout.write("ran")']).toString(), 'ran');
});
