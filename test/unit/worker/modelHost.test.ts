import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CancelSource, ModelHost, Priority } from '../../../server/worker/modelHost';
import { defaultGenerateOptions } from '../../../server/engine/generate';

const fakeWorker = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'fakeWorker.js');

const job = (label: string, passes = 1, passMs = 1) => [{ text: JSON.stringify({ label, passes, passMs }) }];

test('jobs run one at a time, interactive ones before queued background ones', async (t) => {
  const host = new ModelHost(fakeWorker);
  t.after(() => host.dispose());
  const order: string[] = [];
  const track = (p: Promise<{ text: string }>) => p.then((r) => order.push(r.text));
  const first = track(host.generate(job('first', 5, 10), 100, defaultGenerateOptions, undefined, Priority.Background));
  const background = track(host.generate(job('background'), 100, defaultGenerateOptions, undefined, Priority.Background));
  const interactive = track(host.generate(job('interactive'), 100, defaultGenerateOptions, undefined, Priority.Interactive));
  await Promise.all([first, background, interactive]);
  assert.deepEqual(order, ['first', 'interactive', 'background']);
});

test('cancelling a running job stops it between passes; cancelling a queued one removes it', async (t) => {
  const host = new ModelHost(fakeWorker);
  t.after(() => host.dispose());
  const running = new CancelSource();
  const queued = new CancelSource();
  const started = Date.now();
  const long = host.generate(job('long', 1000, 5), 100, defaultGenerateOptions, running.signal);
  const waiting = host.generate(job('waiting'), 100, defaultGenerateOptions, queued.signal);
  queued.cancel();
  await assert.rejects(waiting, (error: Error & { cancelled?: boolean }) => error.cancelled === true);
  setTimeout(() => running.cancel(), 50);
  await assert.rejects(long, (error: Error & { cancelled?: boolean }) => error.cancelled === true);
  assert.ok(Date.now() - started < 2000, 'the long job was not stopped between passes');
  // The host is still usable and the next job is not mistaken for the cancelled one.
  assert.equal((await host.generate(job('after'), 100, defaultGenerateOptions)).text, 'after');
});

test('a worker that dies fails its job, is restarted, and the host keeps working', async (t) => {
  const exits: [number, boolean][] = [];
  const host = new ModelHost(fakeWorker, { onWorkerExit: (code, restarted) => exits.push([code, restarted]) });
  t.after(() => host.dispose());
  await assert.rejects(host.load({ modelPath: 'crash', threads: 1, weightFormat: 'fp32' }), /worker stopped \(exit code 3\)/);
  assert.deepEqual(exits, [[3, true]]);
  assert.equal((await host.load({ modelPath: 'fine', threads: 1, weightFormat: 'fp32' })).name, 'fine');
});
