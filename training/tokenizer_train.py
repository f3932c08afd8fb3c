"""Trains Heed's byte-level BPE tokenizer on the train split of the corpus.

Qwen2's normaliser (NFC), pre-tokenizer (its split regex, then byte-level) and decoder,
so that any engine that knows Qwen2's pre-tokenizer (llama.cpp's "qwen2") tokenizes text
exactly as Heed does; Qwen2.5-Coder's special-token names, so that one prompt format
serves this model and real Qwen2.5-Coder checkpoints.

Writes tokenizer.json and tokenizer_config.json into --out.
"""

import argparse
import json
import os
import random

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

# Qwen2's pre-tokenizer split pattern, verbatim from its tokenizer.json.
QWEN2_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
SPECIAL_TOKENS = ['<|endoftext|>', '<|fim_prefix|>', '<|fim_middle|>', '<|fim_suffix|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>']


def sample_texts(corpus_path: str, target_bytes: int, seed: int):
    """Files of the train split, each kept with the probability that brings the sample near target_bytes."""
    total = 0
    with open(corpus_path, encoding='utf-8') as f:
        for line in f:
            package = json.loads(line)
            if package['split'] == 'train':
                total += sum(len(text) for _, text in package['files'])
    keep = min(1.0, target_bytes / max(total, 1))
    rng = random.Random(seed)
    with open(corpus_path, encoding='utf-8') as f:
        for line in f:
            package = json.loads(line)
            if package['split'] != 'train':
                continue
            for path, text in package['files']:
                if rng.random() < keep:
                    yield f'{path}\n{text}'


def build_tokenizer() -> Tokenizer:
    tokenizer = Tokenizer(models.BPE(byte_fallback=False, fuse_unk=False))
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_SPLIT), behavior='isolated', invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    tokenizer.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    tokenizer.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    return tokenizer


def tokenizer_config(max_length: int) -> dict:
    return {
        'tokenizer_class': 'PreTrainedTokenizerFast',
        'model_max_length': max_length,
        'bos_token': None,
        'eos_token': '<|endoftext|>',
        'pad_token': '<|fim_pad|>',
        'unk_token': None,
        'additional_special_tokens': SPECIAL_TOKENS[1:],
        'add_bos_token': False,
        'add_eos_token': False,
        'clean_up_tokenization_spaces': False,
        'split_special_tokens': False,
        # Heed reads this: its prompts put the suffix first (SPM), the order this model completes best.
        'fim_order': 'spm',
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--corpus', required=True, help='corpus.jsonl from corpus.py')
    parser.add_argument('--vocab-size', type=int, default=16384)
    parser.add_argument('--sample-mb', type=float, default=96)
    parser.add_argument('--max-length', type=int, default=16384)
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    tokenizer = build_tokenizer()
    trainer = trainers.BpeTrainer(
        vocab_size=args.vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(sample_texts(args.corpus, int(args.sample_mb * 1e6), args.seed), trainer)
    for token in SPECIAL_TOKENS:
        assert tokenizer.token_to_id(token) is not None, token
    tokenizer.save(os.path.join(args.out, 'tokenizer.json'))
    with open(os.path.join(args.out, 'tokenizer_config.json'), 'w') as f:
        json.dump(tokenizer_config(args.max_length), f, indent=2)
    print(f'tokenizer: {tokenizer.get_vocab_size()} tokens', flush=True)


if __name__ == '__main__':
    main()
