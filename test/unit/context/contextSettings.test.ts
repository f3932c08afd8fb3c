import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateSettings } from '../../../server/settings';

const base = { modelPath: '/models/m', debounceMs: 75, maxTokens: 48, maxPromptTokens: 2048, contextMaxTokens: 8192, threads: 2 };

test('context settings: a token budget from 0, glob lists that default to none', () => {
  const settings = validateSettings({ ...base, contextExclude: ['**/fixtures/**'], filesExclude: ['**/.git'] });
  assert.equal(settings.contextMaxTokens, 8192);
  assert.deepEqual(settings.contextExclude, ['**/fixtures/**']);
  assert.deepEqual(settings.filesExclude, ['**/.git']);
  const plain = validateSettings(base);
  assert.deepEqual([plain.contextExclude, plain.filesExclude], [[], []]);
  assert.equal(validateSettings({ ...base, contextMaxTokens: 0 }).contextMaxTokens, 0, '0: the current file alone');
});

test('context settings out of range or of the wrong shape are refused with the setting\'s name', () => {
  assert.throws(() => validateSettings({ ...base, contextMaxTokens: -1 }), /heed\.context\.maxTokens must be a whole number from 0 to 131072/);
  assert.throws(() => validateSettings({ ...base, contextMaxTokens: undefined }), /heed\.context\.maxTokens/);
  assert.throws(() => validateSettings({ ...base, contextExclude: '**/x' }), /heed\.context\.exclude must be a list/);
  assert.throws(() => validateSettings({ ...base, contextExclude: ['ok', 3] }), /heed\.context\.exclude/);
  assert.throws(() => validateSettings({ ...base, filesExclude: { '**/.git': true } }), /files\.exclude must be a list/);
});
