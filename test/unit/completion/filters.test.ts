import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postProcess } from '../../../server/features/completion/filters';

// Each case: the line with the cursor marked ║, what the model wrote, what ghost text should show
// (undefined: nothing is shown).
const cases: { line: string; raw: string; shown: string | undefined }[] = [
  { line: 'const total = ║', raw: 'price * quantity;\n  return total;', shown: 'price * quantity;' },
  { line: 'const total = ║', raw: 'price * quantity;   ', shown: 'price * quantity;' },
  { line: 'const total = ║', raw: '   \n  foo', shown: undefined },
  { line: 'const total = ║', raw: '', shown: undefined },
  { line: 'log(║)', raw: ')', shown: undefined },
  { line: 'log(║);', raw: ');', shown: undefined },
  { line: 'log(║)', raw: 'value)', shown: 'value)' },
  { line: 'return ║', raw: 'the the the the the', shown: 'the the' },
  { line: 'x = ║', raw: 'aaaaaaaa', shown: 'a' },
  { line: 'items.║', raw: 'filter(isOk).map(toName);', shown: 'filter(isOk).map(toName);' },
  { line: 'let s = ║', raw: 'a\r\nb', shown: 'a' },
];

for (const { line, raw, shown } of cases) {
  test(`filters: ${line} + ${JSON.stringify(raw)}`, () => {
    const [linePrefix, lineSuffix] = line.split('║');
    assert.equal(postProcess(raw, { linePrefix, lineSuffix }), shown);
  });
}
