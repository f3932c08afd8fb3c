"""Builds a smaller npm archive for a short device lease: the train packages of one language.

A continued run must carry the shipped model folder (55 MB) to the device, which leaves a
few MB of the 64 MiB upload for npm packages. This takes a corpus made by corpus.py over
fetch_npm_corpus.sh's folder (`corpus.py --no-python --npm-dir DIR`), keeps the train
packages of --language, less --exclude, and writes each with only the files the corpus
kept, its package.json and its license files, as one .tar.xz that run.sh --npm-archive
reads. The corpus's --max-files-per-package, if given there, carries over: corpus.py on
the device keeps the same files again.

  python3 training/npm_subset.py --npm-dir /tmp/npm --corpus /tmp/npm-corpus/corpus.jsonl \\
      --language typescript --exclude effect,@types/node --out ts-subset.tar.xz
"""

import argparse
import json
import os
import tarfile

LICENSE_PREFIXES = ('LICEN', 'COPYING')


def package_folders(npm_dir: str) -> dict:
    """(name, version) of every package folder's package.json -> the folder's name."""
    folders = {}
    for entry in sorted(os.listdir(npm_dir)):
        manifest = os.path.join(npm_dir, entry, 'package.json')
        if entry.startswith('.') or not os.path.isfile(manifest):
            continue
        with open(manifest, encoding='utf-8') as f:
            meta = json.load(f)
        folders[(str(meta.get('name', entry)), str(meta.get('version', '0')))] = entry
    return folders


def write_subset(npm_dir: str, corpus_path: str, language: str, excluded: set, out: str) -> tuple:
    """Writes the archive; returns (packages, files, bytes of source) in it."""
    folders = package_folders(npm_dir)
    packages, files, raw_bytes = 0, 0, 0
    with tarfile.open(out, 'w:xz', preset=9) as archive, open(corpus_path, encoding='utf-8') as corpus:
        for line in corpus:
            package = json.loads(line)
            if package['split'] != 'train' or package['language'] != language or package['name'] in excluded:
                continue
            entry = folders.get((package['name'], package['version']))
            if entry is None:
                raise SystemExit(f"npm_subset: {package['name']}@{package['version']} is in the corpus but not in {npm_dir}")
            root = os.path.join(npm_dir, entry)
            extras = sorted(n for n in os.listdir(root) if n.upper().startswith(LICENSE_PREFIXES) and os.path.isfile(os.path.join(root, n)))
            for rel in ['package.json'] + extras + [rel for rel, _ in package['files']]:
                archive.add(os.path.join(root, rel), arcname=f'{entry}/{rel}')
            raw_bytes += sum(os.path.getsize(os.path.join(root, rel)) for rel, _ in package['files'])
            packages += 1
            files += len(package['files'])
    return packages, files, raw_bytes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--npm-dir', required=True, help='folder from fetch_npm_corpus.sh')
    parser.add_argument('--corpus', required=True, help='corpus.jsonl from corpus.py over that folder')
    parser.add_argument('--language', default='typescript')
    parser.add_argument('--exclude', default='', help='package names to leave out, comma-separated')
    parser.add_argument('--out', required=True, help='the .tar.xz to write')
    args = parser.parse_args()
    excluded = {name for name in args.exclude.split(',') if name}
    packages, files, raw_bytes = write_subset(args.npm_dir, args.corpus, args.language, excluded, args.out)
    print(f'npm_subset: {packages} packages, {files} files, {raw_bytes / 1e6:.1f} MB of source in {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
