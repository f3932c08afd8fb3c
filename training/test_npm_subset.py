"""Checks of npm_subset.py: which packages and files go into the archive.

    python3 -m unittest test_npm_subset     (from training/; the test suite runs it too)
"""

import json
import os
import tarfile
import tempfile
import unittest

from npm_subset import write_subset


def package(root, folder, name, version, files):
    os.makedirs(os.path.join(root, folder), exist_ok=True)
    with open(os.path.join(root, folder, 'package.json'), 'w') as f:
        json.dump({'name': name, 'version': version}, f)
    with open(os.path.join(root, folder, 'LICENSE'), 'w') as f:
        f.write('MIT')
    for rel, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, folder, rel)), exist_ok=True)
        with open(os.path.join(root, folder, rel), 'w') as f:
            f.write(text)


class NpmSubsetTest(unittest.TestCase):
    def test_keeps_the_train_packages_of_one_language_with_the_corpus_files_only(self):
        with tempfile.TemporaryDirectory() as tmp:
            npm = os.path.join(tmp, 'npm')
            package(npm, 'a@1.0.0', 'a', '1.0.0', {'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'export const b = 2;\n'})
            package(npm, 'a@2.0.0', 'a', '2.0.0', {'src/a.ts': 'export const a = 3;\n'})
            package(npm, '@s__c@1.0.0', '@s/c', '1.0.0', {'index.js': 'module.exports = 1;\n'})
            package(npm, 'held@1.0.0', 'held', '1.0.0', {'x.ts': 'export {};\n'})
            package(npm, 'skip@1.0.0', 'skip', '1.0.0', {'x.ts': 'export {};\n'})
            corpus = os.path.join(tmp, 'corpus.jsonl')
            rows = [
                {'name': 'a', 'version': '1.0.0', 'split': 'train', 'language': 'typescript', 'files': [['src/a.ts', 'export const a = 1;\n']]},
                {'name': 'a', 'version': '2.0.0', 'split': 'train', 'language': 'typescript', 'files': [['src/a.ts', 'export const a = 3;\n']]},
                {'name': '@s/c', 'version': '1.0.0', 'split': 'train', 'language': 'javascript', 'files': [['index.js', 'module.exports = 1;\n']]},
                {'name': 'held', 'version': '1.0.0', 'split': 'heldout', 'language': 'typescript', 'files': [['x.ts', 'export {};\n']]},
                {'name': 'skip', 'version': '1.0.0', 'split': 'train', 'language': 'typescript', 'files': [['x.ts', 'export {};\n']]},
            ]
            with open(corpus, 'w') as f:
                f.write(''.join(json.dumps(r) + '\n' for r in rows))
            out = os.path.join(tmp, 'subset.tar.xz')
            packages, files, raw_bytes = write_subset(npm, corpus, 'typescript', {'skip'}, out)
            self.assertEqual((packages, files, raw_bytes), (2, 2, 40))
            with tarfile.open(out) as archive:
                names = sorted(archive.getnames())
                self.assertEqual(archive.extractfile('a@2.0.0/src/a.ts').read(), b'export const a = 3;\n')
            # Both versions of a, each with its manifest and license; src/b.ts was not kept by the corpus.
            self.assertEqual(names, ['a@1.0.0/LICENSE', 'a@1.0.0/package.json', 'a@1.0.0/src/a.ts',
                                     'a@2.0.0/LICENSE', 'a@2.0.0/package.json', 'a@2.0.0/src/a.ts'])

    def test_a_corpus_package_missing_from_the_folder_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, 'npm'))
            corpus = os.path.join(tmp, 'corpus.jsonl')
            with open(corpus, 'w') as f:
                f.write(json.dumps({'name': 'gone', 'version': '1.0.0', 'split': 'train', 'language': 'typescript', 'files': []}) + '\n')
            with self.assertRaises(SystemExit) as raised:
                write_subset(os.path.join(tmp, 'npm'), corpus, 'typescript', set(), os.path.join(tmp, 'out.tar.xz'))
            self.assertIn('gone@1.0.0', str(raised.exception))


if __name__ == '__main__':
    unittest.main()
