"""Synthetic cross-file copy files for training: values defined in one file, repeated by name in another.

Natural code has too few exact copies across thousands of tokens for a small model to learn
long-range retrieval from it alone. pack.py therefore builds some windows around a pair
of files made here: a definitions file (module constants, a dict, a class, an exported
object) and a later file that repeats some of the values by name (tests, checks). Real
files of the train split fill the distance between them. Names are made of words taken
from the corpus's own identifiers and share words with each other, and values are random,
so only attention to the right definition predicts a value.

copy_pair() returns the two files as (path, text) and, for the using file, the character
spans (start, end) of each repeated value up to the end of its line: the places where a
cursor would ask for the value, used as fill-in-the-middle splits.
"""

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


def _python(rng, words, names, values, used):
    module = rng.choice(['settings', 'config', 'constants', 'defaults', f'{words[0]}_settings', f'_{words[1]}'])
    package = snake(rng.sample(words, 1))
    style = rng.choice(['constants', 'constants', 'dict', 'class'])
    lines = [f'"""{rng.choice(["Settings", "Constants", "Defaults", "Configuration"])} of the {words[2]} {words[3]}."""', '']
    if style == 'constants':
        refs = [snake(n).upper() for n in names]
        for ref, value in zip(refs, values):
            if rng.random() < 0.2:
                lines.append(f'# {" ".join(rng.sample(words, 3))}')
            lines.append(f'{ref} = {value}')
        imported = ', '.join(refs[i] for i in used)
        header = rng.choice([f'from {package}.{module} import {imported}', f'from .{module} import {imported}'])
    elif style == 'dict':
        holder = rng.choice(['DEFAULTS', 'SETTINGS', 'CONFIG', snake(rng.sample(words, 2)).upper()])
        lines.append(f'{holder} = {{')
        lines += [f'    "{snake(n)}": {v},' for n, v in zip(names, values)]
        lines.append('}')
        refs = [f'{holder}["{snake(n)}"]' for n in names]
        header = f'from {package}.{module} import {holder}'
    else:
        holder = rng.choice(['Settings', 'Config', 'Defaults', ''.join(w.capitalize() for w in rng.sample(words, 2))])
        lines.append(f'class {holder}:')
        lines += [f'    {snake(n)} = {v}' for n, v in zip(names, values)]
        refs = [f'{holder}.{snake(n)}' for n in names]
        header = f'from .{module} import {holder}'
    definitions = (f'{package}/{module}.py', '\n'.join(lines) + '\n')

    text = header + '\n\n\n'
    spans = []
    test = f'def test_{snake(rng.sample(words, 2))}():\n'
    unittest = rng.random() < 0.3
    if unittest:
        text += f'class Test{"".join(w.capitalize() for w in rng.sample(words, 2))}(unittest.TestCase):\n    def test_{words[4]}(self):\n'
        text = 'import unittest\n' + text
    else:
        text += test
    for i in used:
        indent = '        ' if unittest else '    '
        if unittest:
            check, tail = f'self.assertEqual({refs[i]}, ', ')'
        else:
            check, tail = rng.choice([(f'assert {refs[i]} == ', ''), (f'assert_equal({refs[i]}, ', ')'), (f'check({refs[i]}, ', ')')])
        text = _append_check(text, spans, indent, check, values[i], tail)
    return definitions, (f'tests/test_{module.strip("_")}.py', text), spans


def _typescript(rng, words, names, values, used):
    module = rng.choice(['settings', 'config', 'constants', 'defaults', f'{words[0]}-settings', f'{words[1]}-config'])
    style = rng.choice(['const', 'const', 'object', 'class'])
    lines = [f'// {rng.choice(["Settings", "Constants", "Defaults", "Configuration"])} of the {words[2]} {words[3]}.', '']
    if style == 'const':
        upper = rng.random() < 0.3
        refs = [snake(n).upper() if upper else camel(n) for n in names]
        lines += [f'export const {r} = {v};' for r, v in zip(refs, values)]
        header = f"import {{ {', '.join(refs[i] for i in used)} }} from './{module}';"
    elif style == 'object':
        holder = rng.choice(['config', 'settings', 'defaults', camel(rng.sample(words, 2))])
        lines.append(f'export const {holder} = {{')
        lines += [f'  {camel(n)}: {v},' for n, v in zip(names, values)]
        lines.append('};')
        refs = [f'{holder}.{camel(n)}' for n in names]
        header = f"import {{ {holder} }} from './{module}';"
    else:
        holder = rng.choice(['Settings', 'Config', 'Defaults', ''.join(w.capitalize() for w in rng.sample(words, 2))])
        lines.append(f'export class {holder} {{')
        lines += [f'  static readonly {camel(n)} = {v};' for n, v in zip(names, values)]
        lines.append('}')
        refs = [f'{holder}.{camel(n)}' for n in names]
        header = f"import {{ {holder} }} from './{module}';"
    definitions = (f'src/{module}.ts', '\n'.join(lines) + '\n')

    text = header + '\n\n' + f"{rng.choice(['test', 'it'])}('{' '.join(rng.sample(words, 2))}', () => {{\n"
    spans = []
    for i in used:
        check = rng.choice([f'expect({refs[i]}).toBe(', f'expect({refs[i]}).toEqual(', f'assert.strictEqual({refs[i]}, '])
        text = _append_check(text, spans, '  ', check, values[i], ');')
    text += '});\n'
    return definitions, (f'src/{module}.test.ts', text), spans


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
