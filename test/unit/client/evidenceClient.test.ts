import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceIdOf, parseAcceptedParams } from '../../../src/evidence/acceptedParams';
import { highlightTiers, lineTiers } from '../../../src/evidence/lineTiers';
import { hostileUri, reportFixture } from './reportFixture';

const accepted = { id: 'c-1', uri: 'file:///w/a.ts', line: 2, character: 4, text: 'foo()' };

test('the accepted command argument must have the contract shape', () => {
  assert.deepEqual(parseAcceptedParams(accepted), accepted);
  assert.equal(parseAcceptedParams({ ...accepted, id: '' }), undefined);
  assert.equal(parseAcceptedParams({ ...accepted, line: 1.5 }), undefined);
  assert.equal(parseAcceptedParams({ ...accepted, character: '4' }), undefined);
  assert.equal(parseAcceptedParams({ ...accepted, text: undefined }), undefined);
  assert.equal(parseAcceptedParams(null), undefined);
  assert.equal(parseAcceptedParams([accepted]), undefined);
});

test('the Why? item follows the first item only, and only with Heed\'s command', () => {
  const heed = { command: { command: 'heed.completionAccepted', arguments: [accepted] } };
  assert.equal(evidenceIdOf([heed]), 'c-1');
  assert.equal(evidenceIdOf([]), undefined);
  assert.equal(evidenceIdOf([{}, heed]), undefined);
  assert.equal(evidenceIdOf([{ command: { command: 'other.command', arguments: [accepted] } }]), undefined);
  assert.equal(evidenceIdOf([{ command: { command: 'heed.completionAccepted', arguments: [] } }]), undefined);
  assert.equal(evidenceIdOf([{ command: { command: 'heed.completionAccepted', arguments: [{ id: 7 }] } }]), undefined);
});

test('highlight tiers: the strongest line at the top tier, weak lines at the bottom', () => {
  const tiers = lineTiers(reportFixture());
  // Line scores: config.ts 0.4 and 0.1, the other file 0.06 and 0.04, of a best 0.4.
  assert.deepEqual([...tiers.get('file:///w/src/config.ts')!], [[0, highlightTiers - 1], [1, 0]]);
  assert.deepEqual([...tiers.get(hostileUri)!], [[3, 0], [4, 0]]);
  const mid = reportFixture();
  mid.spans[1].lines[1].score = 0.2;
  assert.equal(lineTiers(mid).get('file:///w/src/config.ts')!.get(1), 1);
});

test("a completion's other files' lines are marked too, on the same scale", () => {
  const report = reportFixture();
  const line = { uri: 'file:///w/src/far.ts', path: 'src/far.ts', line: 7, text: 'export const far = 1;', score: 0.39 };
  const weak = { ...line, line: 9, score: 0.01 };
  report.otherFileSpans = [{ uri: line.uri, path: line.path, startLine: 7, endLine: 9, score: 0.4, lines: [line, weak] }, report.spans[1]];
  assert.deepEqual([...lineTiers(report).get(line.uri)!], [[7, highlightTiers - 1], [9, 0]]);
  assert.deepEqual([...lineTiers(report).get(hostileUri)!], [[3, 0], [4, 0]], 'a span in both lists is marked once');
});

test('a line in two spans keeps its stronger tier', () => {
  const report = reportFixture();
  const strong = report.spans[1].lines[0];
  report.spans.push({ ...report.spans[1], score: 0.01, lines: [{ ...strong, score: 0.01 }] });
  assert.equal(lineTiers(report).get(strong.uri)!.get(strong.line), highlightTiers - 1);
});
