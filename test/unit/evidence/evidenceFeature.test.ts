// Reports recorded after a completion's reply: built once, right after or when first read,
// and a report that cannot be built is logged, not thrown from a timer.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TextDocuments } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { EvidenceFeature } from '../../../server/features/evidence/evidenceFeature';
import { reportFixture } from '../client/reportFixture';

const noDocuments = {} as TextDocuments<TextDocument>;
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('a report recorded after the reply is not built in the call, and is built once: on first read, or on the next turn', async () => {
  const feature = new EvidenceFeature(noDocuments, () => {});
  let builds = 0;
  const build = () => {
    builds++;
    return { ...reportFixture(), id: 'completion-1' };
  };
  feature.recordAfterReply('completion-1', 'completion', build);
  assert.equal(builds, 0, 'built before the reply');
  assert.equal(feature.report('completion-1')?.id, 'completion-1', 'read before the next turn');
  assert.equal(builds, 1);
  await nextTurn();
  assert.equal(feature.report('completion-1')?.id, 'completion-1');
  assert.equal(builds, 1, 'built again');

  feature.recordAfterReply('completion-2', 'completion', () => {
    builds++;
    return { ...reportFixture(), id: 'completion-2' };
  });
  await nextTurn();
  assert.equal(builds, 2, 'not built on the next turn');
  assert.equal(feature.report('completion-2')?.id, 'completion-2');
  assert.equal(builds, 2);
});

test('a report that cannot be built is logged once and reads as none', async () => {
  const logs: string[] = [];
  const feature = new EvidenceFeature(noDocuments, (line) => logs.push(line));
  feature.recordAfterReply('completion-7', 'completion', () => {
    throw new Error('part 3 has no source');
  });
  await nextTurn();
  assert.equal(feature.report('completion-7'), undefined);
  assert.deepEqual(logs, ['evidence of completion-7 could not be mapped to the workspace: part 3 has no source']);
});
