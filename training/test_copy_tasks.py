"""Checks of the synthetic copy files (copy_tasks.py): values, spans, imports and paths.

    python3 -m unittest test_copy_tasks     (from training/; the test suite runs it too)
"""

import posixpath
import random
import re
import unittest

from copy_tasks import copy_pair

WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima']
PAIRS = 400


def pairs(language):
    for k in range(PAIRS):
        yield copy_pair(random.Random(f'test/{language}/{k}'), WORDS, language)


def shape(path):
    """The path with its corpus words replaced, so that paths of one form compare equal."""
    return re.sub('|'.join(sorted(WORDS, key=len, reverse=True)), 'W', path)


class CopyPairTest(unittest.TestCase):
    def test_every_span_is_a_defined_value_up_to_its_line_end(self):
        for language in ('python', 'typescript'):
            for (_, definitions), (_, use), spans in pairs(language):
                self.assertTrue(spans)
                for start, end in spans:
                    self.assertEqual(use[end], '\n')
                    value = re.match(r'[^,)]+', use[start:end]).group(0).rstrip(';')
                    self.assertIn(f' {value}', definitions, use[start:end])

    def test_typescript_imports_name_the_definitions_file(self):
        for (def_path, _), (use_path, use), _ in pairs('typescript'):
            specifier = re.search(r"from '([^']+)';\n\n", use).group(1)
            self.assertTrue(specifier.startswith('.'), specifier)
            self.assertEqual(posixpath.normpath(posixpath.join(posixpath.dirname(use_path), specifier)) + '.ts', def_path)

    def test_python_imports_name_the_definitions_module(self):
        for (def_path, _), (use_path, use), _ in pairs('python'):
            source = re.search(r'^from (\S+) import ', use, re.M).group(1)
            if source.startswith('.'):
                self.assertEqual(posixpath.dirname(use_path), posixpath.dirname(def_path))
                self.assertEqual(source[1:], posixpath.basename(def_path)[:-3])
            else:
                self.assertEqual(source.replace('.', '/') + '.py', def_path.removeprefix('src/'))

    def test_the_files_live_in_many_places_tests_and_plain_modules_alike(self):
        for language, test_name in (('python', r'(^|/)test_|_test\.py$'), ('typescript', r'\.(test|spec)\.ts$|__tests__/')):
            uses = [use_path for _, (use_path, _), _ in pairs(language)]
            definitions = {shape(def_path) for (def_path, _), _, _ in pairs(language)}
            self.assertGreaterEqual(len({shape(p) for p in uses}), 8, language)
            self.assertGreaterEqual(len(definitions), 4, language)
            plain = [p for p in uses if not re.search(test_name, p)]
            self.assertTrue(0.1 < len(plain) / len(uses) < 0.4, f'{language}: {len(plain)} plain modules of {len(uses)}')

    def test_the_same_seed_makes_the_same_pair(self):
        for language in ('python', 'typescript'):
            self.assertEqual(copy_pair(random.Random(3), WORDS, language), copy_pair(random.Random(3), WORDS, language))


if __name__ == '__main__':
    unittest.main()
