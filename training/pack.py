"""Turns the corpus into token streams in Heed's repo-level prompt layout.

One package is one sample:
  <|repo_name|>NAME\n <|file_sep|>PATH\nCONTENT\n <|file_sep|>PATH\n… <|endoftext|>
Files keep their path order, so a window sees its neighbours. About half the files of
the train split are fill-in-the-middle, split at two random line starts or at two random
characters, half of them PSM
  <|fim_prefix|>PRE<|fim_suffix|>SUF<|fim_middle|>MID
and half SPM (the order Heed prefers, since a keystroke then extends the cached prefix)
  <|fim_suffix|>SUF<|fim_prefix|>PRE<|fim_middle|>MID
Each part is tokenized on its own, as the extension tokenizes a prompt's parts.

Copy windows (copy_tasks.py): for each --copy-lengths L, --copy-samples of exactly L
tokens each, laid out as one synthetic package
  <|repo_name|>NAME\n [train files] DEFINITIONS [train files] USES [train files] <|endoftext|>
where the train files fill the room at random proportions, so the distance between a
definition and its use spans the whole window. Half the using files are
fill-in-the-middle with the middle starting at one of the repeated values.

Writes into --out: train-1.u16, train-2.u16 (two draws of the fill-in-the-middle choices,
packages in two shuffled orders), heldout.u16 (held-out packages, plain), copy-L.u16 (copy
windows, L tokens each, aligned), and pack-summary.json. Streams are flat uint16 token ids.
"""

import argparse
import json
import os
import random

import numpy as np
from tokenizers import Tokenizer

from copy_tasks import copy_pair, identifier_words

FIM_RATE = 0.5
SPM_RATE = 0.5
LINE_SPLIT_RATE = 0.5
ENCODE_BATCH = 4096


def fim_pieces(rng: random.Random, content: str):
    """None for a plain file, else (order, prefix, middle, suffix).

    Half the splits fall on line starts (the cursor on a new line), half on any character
    (the cursor inside a line). Character splits alone teach a small model that a middle
    usually begins inside a word, and it then starts a new line with a word's tail.
    """
    if rng.random() >= FIM_RATE or len(content) < 2:
        return None
    if rng.random() < LINE_SPLIT_RATE:
        starts = [0] + [i + 1 for i, c in enumerate(content) if c == '\n']
        a, b = sorted(rng.choice(starts) for _ in range(2))
    else:
        a, b = sorted(rng.randrange(len(content) + 1) for _ in range(2))
    return ('spm' if rng.random() < SPM_RATE else 'psm', content[:a], content[a:b], content[b:])


class Encoder:
    """Collects strings, encodes them in parallel batches, and hands back their ids by ticket."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.texts = []
        self.ids = []

    def ticket(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1

    def run(self):
        for start in range(0, len(self.texts), ENCODE_BATCH):
            batch = self.texts[start:start + ENCODE_BATCH]
            self.ids.extend(np.asarray(e.ids, dtype=np.uint16) for e in self.tokenizer.encode_batch(batch, add_special_tokens=False))
        self.texts = []


def plan_copy_windows(encoder: Encoder, words: list, lengths: list, counts: list, seed: int) -> dict:
    """Per window length, the copy files of each window, as encoder tickets (see copy_window)."""
    plans = {}
    for length, count in zip(lengths, counts):
        plans[length] = []
        for k in range(count):
            rng = random.Random(f'{seed}/copy/{length}/{k}')
            language = 'python' if rng.random() < 0.5 else 'typescript'
            (def_path, def_text), (use_path, use_text), spans = copy_pair(rng, words, language)
            use = ('plain', encoder.ticket(use_text))
            if rng.random() < FIM_RATE:
                a, b = rng.choice(spans)
                pieces = (use_text[:a], use_text[a:b], use_text[b:])
                use = ('spm' if rng.random() < SPM_RATE else 'psm', *(encoder.ticket(p) for p in pieces))
            plans[length].append({
                'seed': f'{seed}/copy-fill/{length}/{k}', 'language': language,
                'repo': encoder.ticket(f"{'-'.join(rng.sample(words, 2))}\n"),
                'definitions': (encoder.ticket(f'{def_path}\n'), encoder.ticket(def_text)),
                'use_path': encoder.ticket(f'{use_path}\n'), 'use': use,
            })
    return plans


def fim_parts(tok: dict, ids: list, order: str, pre: int, mid: int, suf: int) -> list:
    if order == 'psm':
        return [tok['fim_prefix'], ids[pre], tok['fim_suffix'], ids[suf], tok['fim_middle'], ids[mid]]
    return [tok['fim_suffix'], ids[suf], tok['fim_prefix'], ids[pre], tok['fim_middle'], ids[mid]]


def copy_window(ids: list, tok: dict, fillers: dict, length: int, plan: dict) -> np.ndarray:
    """One copy window of exactly `length` tokens; train files of the plan's language fill the room."""
    rng = random.Random(plan['seed'])
    head = np.concatenate([tok['repo_name'], ids[plan['repo']]])
    definitions = np.concatenate([tok['file_sep'], ids[plan['definitions'][0]], ids[plan['definitions'][1]]])
    order, *pieces = plan['use']
    use_body = [ids[pieces[0]]] if order == 'plain' else fim_parts(tok, ids, order, *pieces)
    use = np.concatenate([tok['file_sep'], ids[plan['use_path']], *use_body])
    room = length - head.size - definitions.size - use.size - 1
    if room < 0:
        raise ValueError(f'copy window of {length} tokens: its copy files alone take {length - room}')
    before = int(room * rng.uniform(0, 0.3))
    after = int(room * rng.uniform(0, 0.1))
    pool = fillers.get(plan['language']) or [f for files in fillers.values() for f in files]

    def fill(count: int) -> list:
        parts, size = [], 0
        while size < count:
            path, plain = rng.choice(pool)
            parts += [tok['file_sep'], ids[path], ids[plain]]
            size += 1 + ids[path].size + ids[plain].size
        return [np.concatenate(parts)[:count]] if parts else []

    window = np.concatenate([head, *fill(before), definitions, *fill(room - before - after), use, *fill(after), tok['endoftext']])
    assert window.size == length
    return window


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--corpus', required=True)
    parser.add_argument('--tokenizer', required=True, help='folder with tokenizer.json')
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--copy-lengths', default='4096,16384', help='window lengths of the copy windows')
    parser.add_argument('--copy-samples', default='24000,2400', help='how many copy windows of each length')
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tokenizer = Tokenizer.from_file(os.path.join(args.tokenizer, 'tokenizer.json'))
    assert tokenizer.get_vocab_size() <= 65536
    special = {name: tokenizer.token_to_id(f'<|{name}|>') for name in ('endoftext', 'fim_prefix', 'fim_middle', 'fim_suffix', 'fim_pad', 'repo_name', 'file_sep')}
    tok = {name: np.asarray([i], dtype=np.uint16) for name, i in special.items()}

    encoder = Encoder(tokenizer)
    packages = []  # (split, name ticket, [(path ticket, plain ticket, [variant pieces])], language)
    word_texts = []
    with open(args.corpus, encoding='utf-8') as f:
        for line in f:
            package = json.loads(line)
            files = []
            for path, text in package['files']:
                if package['split'] == 'train' and len(files) % 4 == 0:  # a sample of files, for the copy names
                    word_texts.append(text[:20000])
                content = text if text.endswith('\n') else text + '\n'
                variants = []
                for variant in (1, 2):
                    rng = random.Random(f"{args.seed}/{variant}/{package['name']}/{path}")
                    pieces = fim_pieces(rng, content) if package['split'] == 'train' else None
                    variants.append(None if pieces is None else (pieces[0], *(encoder.ticket(p) for p in pieces[1:])))
                files.append((encoder.ticket(f'{path}\n'), encoder.ticket(content), variants))
            packages.append((package['split'], encoder.ticket(f"{package['name']}\n"), files, package['language']))
    words = identifier_words(word_texts)
    copy_lengths = [int(n) for n in args.copy_lengths.split(',')] if args.copy_lengths else []
    copy_counts = [int(float(n)) for n in args.copy_samples.split(',')] if args.copy_samples else []
    copy_plans = plan_copy_windows(encoder, words, copy_lengths, copy_counts, args.seed)
    encoder.run()
    ids = encoder.ids

    def sample(name_ticket, files, variant):
        parts = [tok['repo_name'], ids[name_ticket]]
        for path_ticket, plain_ticket, variants in files:
            parts += [tok['file_sep'], ids[path_ticket]]
            fim = variants[variant - 1] if variant else None
            parts += [ids[plain_ticket]] if fim is None else fim_parts(tok, ids, *fim)
        parts.append(tok['endoftext'])
        return np.concatenate(parts)

    summary = {'vocab_size': tokenizer.get_vocab_size(), 'special_token_ids': special, 'streams': {}}
    train = [(n, files) for split, n, files, _ in packages if split == 'train']
    for variant in (1, 2):
        order = list(range(len(train)))
        random.Random(f'{args.seed}/order/{variant}').shuffle(order)
        stream = np.concatenate([sample(*train[i], variant) for i in order])
        stream.tofile(os.path.join(args.out, f'train-{variant}.u16'))
        summary['streams'][f'train-{variant}'] = int(stream.size)
    heldout = [sample(n, files, 0) for split, n, files, _ in packages if split == 'heldout']
    stream = np.concatenate(heldout) if heldout else np.zeros(0, dtype=np.uint16)
    stream.tofile(os.path.join(args.out, 'heldout.u16'))
    summary['streams']['heldout'] = int(stream.size)
    fillers = {}
    for split, _, files, language in packages:
        if split == 'train':
            fillers.setdefault(language, []).extend((path, plain) for path, plain, _ in files)
    for length, plans in copy_plans.items():
        stream = np.concatenate([copy_window(ids, tok, fillers, length, plan) for plan in plans])
        stream.tofile(os.path.join(args.out, f'copy-{length}.u16'))
        summary['streams'][f'copy-{length}'] = int(stream.size)
    summary['copy_words'] = len(words)
    summary['train_packages'] = len(train)
    summary['heldout_packages'] = len(heldout)
    with open(os.path.join(args.out, 'pack-summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print(f"pack: {summary['streams']} tokens", flush=True)


if __name__ == '__main__':
    main()
