"""Completion cases from held-out packages, in the JSONL format of Heed's EVAL.md.

repo_cases: a line of a file that uses an identifier defined in another file of the same
package and not in the text before it (cross_file), or one defined earlier in its own file
(in_file). The workspace is the package's other files.
needle_cases: a constant defined in a settings file, real code of held-out packages as
filler, and a line at the end that must repeat the constant's value; the distance between
definition and use is set in tokens.
"""

import os
import random
import re

PY_DEFINITION = re.compile(r'^\s*(?:async\s+)?(?:def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*(?::[^=]*)?=[^=]', re.M)
TS_DEFINITION = re.compile(r'(?:function\*?|class|interface|type|enum|const|let|var)\s+([A-Za-z_$][\w$]*)')
IDENTIFIER = re.compile(r'[A-Za-z_$][\w$]{3,}')
IMPORT_LINE = re.compile(r'^\s*(import\b|from\s+\S+\s+import\b|export\s+\*|export\s*\{.*\}\s*from|.*\brequire\()')
STRING_LITERAL = re.compile(r'(["\'`]).*?(?<!\\)\1')
CODE_PUNCTUATION = re.compile(r'[=(.\[]')
COMMENT_LINE = re.compile(r'^\s*(#|//|/\*|\*|"""|\'\'\')')
WORDS = ('cache', 'retry', 'window', 'token', 'limit', 'batch', 'queue', 'delay', 'buffer', 'stream', 'socket', 'index',
         'shard', 'lease', 'quota', 'frame', 'chunk', 'route', 'cursor', 'ledger', 'vault', 'beacon', 'harbor', 'pixel',
         'signal', 'anchor', 'orbit', 'ember', 'glacier', 'meadow', 'falcon', 'copper', 'velvet', 'prism', 'tundra')


WORKSPACE_CHARS = 192 * 1024


def nearest_files(files: dict, path: str, max_chars: int) -> dict:
    """The package's other files nearest to path (longest common path prefix first), up to max_chars."""
    workspace, size = {}, 0
    for other in sorted((p for p in files if p != path), key=lambda p: (-len(os.path.commonprefix([p, path])), p)):
        if size + len(files[other]) <= max_chars:
            workspace[other] = files[other]
            size += len(files[other])
    return workspace


def definitions(path: str, text: str) -> set:
    pattern = PY_DEFINITION if path.endswith('.py') else TS_DEFINITION
    return {name for match in pattern.finditer(text) for name in match.groups() if name}


def repo_cases(packages: list, per_package: int, seed: int) -> list:
    """packages: dicts with name, language, files [[path, text]] (held-out split only)."""
    cases = []
    for package in sorted(packages, key=lambda p: p['name']):
        rng = random.Random(f"{seed}/repo/{package['name']}")
        files = dict((path, text) for path, text in package['files'])
        if len(files) < 2:
            continue
        defined_in = {}
        for path, text in files.items():
            for name in definitions(path, text):
                defined_in.setdefault(name, set()).add(path)
        candidates = {'cross_file': [], 'in_file': []}
        for path, text in files.items():
            lines = text.split('\n')
            own = definitions(path, text)
            offset = 0
            for i, line in enumerate(lines):
                start, offset = offset, offset + len(line) + 1
                stripped = line.strip()
                if i < 3 or not 10 <= len(stripped) <= 100 or IMPORT_LINE.match(line) or COMMENT_LINE.match(line):
                    continue
                prefix = text[:start]
                code = STRING_LITERAL.sub('', line)
                if not CODE_PUNCTUATION.search(code):
                    continue
                names = set(IDENTIFIER.findall(code))
                cross = [n for n in names if n not in own and n not in prefix and defined_in.get(n, set()) - {path}]
                local = [n for n in names if n in own and n in prefix and re.search(rf'\b{re.escape(n)}\b', prefix)]
                kind = 'cross_file' if cross else 'in_file' if local else None
                if kind:
                    candidates[kind].append((path, start, line))
        for kind, share in (('cross_file', 2 * per_package // 3), ('in_file', per_package - 2 * per_package // 3)):
            for path, start, line in rng.sample(candidates[kind], min(share, len(candidates[kind]))):
                text = files[path]
                cases.append({
                    'id': f"{package['name']}-{len(cases)}",
                    'language': 'python' if path.endswith('.py') else 'typescript' if re.search(r'\.[mc]?tsx?$', path) else 'javascript',
                    'repo': package['name'],
                    'workspace': nearest_files(files, path, WORKSPACE_CHARS),
                    'path': path,
                    'prefix': text[:start],
                    'suffix': text[start + len(line) + 1:],
                    'target': line,
                    'kind': kind,
                })
    return cases


def _needle(rng: random.Random, language: str):
    words = rng.sample(WORDS, 3)
    value = str(rng.randrange(10000, 999999)) if rng.random() < 0.5 else '"' + ''.join(rng.choice('abcdefghjkmnpqrstuvwxyz23456789') for _ in range(6)) + '"'
    if language == 'python':
        name = '_'.join(words).upper()
        module = f'settings_{words[0]}'
        settings = (f'"""Settings of the {words[1]} service."""\n\n', f'{name} = {value}\n')
        use = f'from .{module} import {name}\n\n\ndef test_{words[2]}_setting():\n    assert {name} == ', value, '\n'
        return name, f'app/{module}.py', settings, 'app/test_settings.py', use
    name = words[0] + ''.join(w.capitalize() for w in words[1:])
    module = f'settings-{words[0]}'
    settings = (f'// Settings of the {words[1]} service.\n\n', f'export const {name} = {value};\n')
    use = f"import {{ {name} }} from './{module}';\n\ntest('{words[2]} setting', () => {{\n  expect({name}).toBe(", f'{value});', '\n});\n'
    return name, f'src/{module}.ts', settings, 'src/settings.test.ts', use


def needle_cases(filler_files: list, count_tokens, distances: list, per_distance: int, seed: int) -> list:
    """filler_files: (language, path, text) from held-out packages; count_tokens(text) -> int."""
    cases = []
    by_language = {lang: [f for f in filler_files if f[0] == lang] for lang in ('python', 'typescript')}
    for distance in distances:
        for k in range(per_distance):
            rng = random.Random(f'{seed}/needle/{distance}/{k}')
            language = 'python' if k % 2 == 0 else 'typescript'
            pool = by_language[language] or filler_files
            name, settings_path, settings, path, use = _needle(rng, language)
            workspace = {settings_path: ''.join(settings)}
            tokens = 0
            while tokens < distance:
                _, filler_path, text = rng.choice(pool)
                room = distance - tokens
                size = count_tokens(text)
                if size > room:
                    text = text[:max(1, int(len(text) * room / size))]
                    text = text[:text.rfind('\n') + 1] or text
                    size = count_tokens(text)
                workspace.setdefault(f'lib/{len(workspace)}/{filler_path}', text)
                tokens += size + 8
            cases.append({
                'id': f'needle-{distance}-{k}', 'language': language, 'workspace': workspace, 'path': path,
                'prefix': use[0], 'suffix': use[2], 'target': use[1], 'kind': 'needle',
                'needle_distance_tokens': distance, 'needle': name,
            })
    return cases
