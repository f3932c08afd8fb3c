"""Synthetic cross-file copy files for training: values defined in one file, repeated by name in another.

Natural code has too few exact copies across thousands of tokens for a small model to learn
long-range retrieval from it alone. pack.py therefore builds some windows around a pair
of files made here: a definitions file (module constants, a dict, a class, an exported
object) and a later file that repeats some of the values by name (tests, checks). Real
files of the train split fill the distance between them. Names are made of words taken
from the corpus's own identifiers and share words with each other, and values are random,
so only attention to the right definition predicts a value.

Where the two files live varies as much as what they hold: test folders, tests beside the
code, specs, and plain modules that check their settings. A model trained on one pair of
paths (tests/test_*.py, src/*.test.ts) learned to copy there and nowhere else: the same
needle got 12 of 16 right as tests/test_settings.py and 0 of 16 as app/test_settings.py.
Folder names are words of the corpus, so an eval's own folders (app/, lib/) stay unseen.

copy_pair() returns the two files as (path, text) and, for the using file, the character
spans (start, end) of each repeated value up to the end of its line: the places where a
cursor would ask for the value, used as fill-in-the-middle splits.
"""

import posixpath
import random
import re
from collections import Counter

WORD = re.compile(r'[A-Z]?[a-z]{3,10}(?![a-z])')
STRING_CHARS = 'abcdefghijkmnopqrstuvwxyz0123456789'


def identifier_words(texts, limit: int = 4000) -> list:
    """The most common lowercase words (3-10 letters) inside the identifiers of texts."""
    counts = Counter()
    for text in texts:
        counts.update(w.lower() for w in WORD.findall(text))
    return sorted(w for w, _ in counts.most_common(limit))


def random_value(rng: random.Random, quote: str) -> str:
    kind = rng.random()
    if kind < 0.4:
        return str(rng.randrange(10 ** rng.randint(1, 4), 10 ** rng.randint(5, 7)))
    if kind < 0.5:
        return f'{rng.randrange(1, 1000)}.{rng.randrange(1, 100):02d}'
    if kind < 0.58:
        return hex(rng.randrange(16 ** 3, 16 ** 6))
    if kind < 0.66:
        return f'{quote}{rng.randrange(0, 10)}.{rng.randrange(0, 40)}.{rng.randrange(0, 100)}{quote}'
    return quote + ''.join(rng.choice(STRING_CHARS) for _ in range(rng.randint(4, 10))) + quote


def _names(rng: random.Random, words: list, count: int) -> list:
    """count distinct names of 2-3 words, drawn from a small pool so that names share words."""
    pool = rng.sample(words, min(len(words), count + 3))
    names = []
    while len(names) < count:
        name = tuple(rng.sample(pool, rng.randint(2, 3)))
        if name not in names:
            names.append(name)
    return names


def snake(words) -> str:
    return '_'.join(words)


def camel(words) -> str:
    return words[0] + ''.join(w.capitalize() for w in words[1:])


def _append_check(text: str, spans: list, indent: str, check: str, value: str, tail: str) -> str:
    """text with the line `indent check value tail` appended; records the value's span up to the line's end."""
    line = f'{indent}{check}{value}{tail}'
    spans.append((len(text) + len(indent) + len(check), len(text) + len(line)))
    return text + line + '\n'


def _python_paths(rng, words, module):
    """(definitions path, using path, the using file's import prefix, whether the using file is a test)."""
    package, other = snake(rng.sample(words, 1)), words[4]
    stem = module.strip('_')
    definitions = rng.choice([f'{package}/{module}.py', f'{package}/{module}.py', f'src/{package}/{module}.py', f'{module}.py'])
    use = rng.choice([f'tests/test_{stem}.py', f'{package}/tests/test_{stem}.py', f'tests/{package}/test_{stem}.py',
                      f'test_{stem}.py', f'{package}/test_{stem}.py', f'{package}/{stem}_test.py',
                      f'{package}/{other}.py', f'{other}/{stem}_checks.py'])
    dotted = definitions[:-3].removeprefix('src/').replace('/', '.')
    same_folder = posixpath.dirname(use) == posixpath.dirname(definitions)
    source = rng.choice([f'.{module}', dotted]) if same_folder and '/' in definitions else dotted
    is_test = posixpath.basename(use).startswith('test_') or use.endswith('_test.py')
    return definitions, use, f'from {source} import ', is_test


def _python(rng, words, names, values, used):
    module = rng.choice(['settings', 'config', 'constants', 'defaults', f'{words[0]}_settings', f'_{words[1]}'])
    def_path, use_path, import_from, is_test = _python_paths(rng, words, module)
    style = rng.choice(['constants', 'constants', 'dict', 'class'])
    lines = [f'"""{rng.choice(["Settings", "Constants", "Defaults", "Configuration"])} of the {words[2]} {words[3]}."""', '']
    if style == 'constants':
        refs = [snake(n).upper() for n in names]
        for ref, value in zip(refs, values):
            if rng.random() < 0.2:
                lines.append(f'# {" ".join(rng.sample(words, 3))}')
            lines.append(f'{ref} = {value}')
        header = import_from + ', '.join(refs[i] for i in used)
    elif style == 'dict':
        holder = rng.choice(['DEFAULTS', 'SETTINGS', 'CONFIG', snake(rng.sample(words, 2)).upper()])
        lines.append(f'{holder} = {{')
        lines += [f'    "{snake(n)}": {v},' for n, v in zip(names, values)]
        lines.append('}')
        refs = [f'{holder}["{snake(n)}"]' for n in names]
        header = import_from + holder
    else:
        holder = rng.choice(['Settings', 'Config', 'Defaults', ''.join(w.capitalize() for w in rng.sample(words, 2))])
        lines.append(f'class {holder}:')
        lines += [f'    {snake(n)} = {v}' for n, v in zip(names, values)]
        refs = [f'{holder}.{snake(n)}' for n in names]
        header = import_from + holder
    definitions = (def_path, '\n'.join(lines) + '\n')

    text = header + '\n\n\n'
    spans = []
    unittest = is_test and rng.random() < 0.3
    if unittest:
        text += f'class Test{"".join(w.capitalize() for w in rng.sample(words, 2))}(unittest.TestCase):\n    def test_{words[4]}(self):\n'
        text = 'import unittest\n' + text
    elif is_test:
        text += f'def test_{snake(rng.sample(words, 2))}():\n'
    else:
        text += f'def {rng.choice(["check", "validate", "_check"])}_{snake(rng.sample(words, 2))}():\n'
    for i in used:
        indent = '        ' if unittest else '    '
        if unittest:
            check, tail = f'self.assertEqual({refs[i]}, ', ')'
        else:
            check, tail = rng.choice([(f'assert {refs[i]} == ', ''), (f'assert_equal({refs[i]}, ', ')'), (f'check({refs[i]}, ', ')')])
        text = _append_check(text, spans, indent, check, values[i], tail)
    return definitions, (use_path, text), spans


def _typescript_paths(rng, words, module):
    """(definitions path, using path, the module specifier that imports the definitions, whether the using file is a test)."""
    folder, other = words[0], words[4]
    definitions = rng.choice([f'src/{module}.ts', f'src/{module}.ts', f'lib/{module}.ts', f'src/{folder}/{module}.ts', f'{module}.ts'])
    use = rng.choice([f'src/{module}.test.ts', f'test/{module}.spec.ts', f'tests/{module}.test.ts', f'src/__tests__/{module}.test.ts',
                      f'src/{folder}/{module}.spec.ts', f'{module}.test.ts', f'src/{other}.ts', f'src/{folder}/{other}-checks.ts'])
    specifier = posixpath.relpath(definitions[:-3], posixpath.dirname(use) or '.')
    is_test = bool(re.search(r'\.(test|spec)\.ts$|__tests__/', use))
    return definitions, use, specifier if specifier.startswith('.') else f'./{specifier}', is_test


def _typescript(rng, words, names, values, used):
    module = rng.choice(['settings', 'config', 'constants', 'defaults', f'{words[0]}-settings', f'{words[1]}-config'])
    def_path, use_path, specifier, is_test = _typescript_paths(rng, words, module)
    style = rng.choice(['const', 'const', 'object', 'class'])
    lines = [f'// {rng.choice(["Settings", "Constants", "Defaults", "Configuration"])} of the {words[2]} {words[3]}.', '']
    if style == 'const':
        upper = rng.random() < 0.3
        refs = [snake(n).upper() if upper else camel(n) for n in names]
        lines += [f'export const {r} = {v};' for r, v in zip(refs, values)]
        imported = ', '.join(refs[i] for i in used)
    elif style == 'object':
        holder = rng.choice(['config', 'settings', 'defaults', camel(rng.sample(words, 2))])
        lines.append(f'export const {holder} = {{')
        lines += [f'  {camel(n)}: {v},' for n, v in zip(names, values)]
        lines.append('};')
        refs = [f'{holder}.{camel(n)}' for n in names]
        imported = holder
    else:
        holder = rng.choice(['Settings', 'Config', 'Defaults', ''.join(w.capitalize() for w in rng.sample(words, 2))])
        lines.append(f'export class {holder} {{')
        lines += [f'  static readonly {camel(n)} = {v};' for n, v in zip(names, values)]
        lines.append('}')
        refs = [f'{holder}.{camel(n)}' for n in names]
        imported = holder
    definitions = (def_path, '\n'.join(lines) + '\n')

    text = f"import {{ {imported} }} from '{specifier}';\n\n"
    if is_test:
        text += f"{rng.choice(['test', 'it'])}('{' '.join(rng.sample(words, 2))}', () => {{\n"
    else:
        text = "import assert from 'node:assert';\n" + text + f'export function check{"".join(w.capitalize() for w in rng.sample(words, 2))}(): void {{\n'
    spans = []
    for i in used:
        forms = [f'expect({refs[i]}).toBe(', f'expect({refs[i]}).toEqual(', f'assert.strictEqual({refs[i]}, ']
        check = rng.choice(forms if is_test else [f'assert.strictEqual({refs[i]}, ', f'assert.equal({refs[i]}, '])
        text = _append_check(text, spans, '  ', check, values[i], ');')
    text += '});\n' if is_test else '}\n'
    return definitions, (use_path, text), spans


def copy_pair(rng: random.Random, words: list, language: str):
    """((definitions path, text), (using path, text), value spans in the using text)."""
    count = rng.randint(3, 12)
    names = _names(rng, words, count)
    quote = '"' if language == 'typescript' or rng.random() < 0.5 else "'"
    values = [random_value(rng, quote) for _ in names]
    used = sorted(rng.sample(range(count), rng.randint(1, min(4, count))))
    rng.shuffle(used)
    context_words = rng.sample(words, 5)
    build = _python if language == 'python' else _typescript
    return build(rng, context_words, names, values, used)
