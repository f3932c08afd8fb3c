"""Exports the trained model as a Hugging Face checkpoint folder and checks it.

Writes into --out: config.json (Qwen2, in the long-standing key layout every loader
reads), model-0000N-of-0000M.safetensors (bf16, each under --shard-mib) with
model.safetensors.index.json, tokenizer.json, tokenizer_config.json,
generation_config.json, and checksums.json (bytes and sha256 of every file, which Heed
checks at load). Then reloads the folder with transformers' own Qwen2ForCausalLM and
compares its logits with the trained model's (bf16 weights on both sides), and writes
reference-logits.json: token ids and the reloaded model's fp32 logits, for Heed's engine
to be tested against.
"""

import argparse
import hashlib
import json
import os
import shutil

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer
from transformers import Qwen2Config, Qwen2ForCausalLM

REFERENCE_TEXT = 'def add(a, b):\n    """Add two numbers."""\n    return a + b\n\n\nclass Stack:\n    def __init__(self):\n        self.items = []\n'


def hf_config(config: Qwen2Config) -> dict:
    return {
        'architectures': ['Qwen2ForCausalLM'],
        'model_type': 'qwen2',
        'vocab_size': config.vocab_size,
        'hidden_size': config.hidden_size,
        'intermediate_size': config.intermediate_size,
        'num_hidden_layers': config.num_hidden_layers,
        'num_attention_heads': config.num_attention_heads,
        'num_key_value_heads': config.num_key_value_heads,
        'hidden_act': 'silu',
        'max_position_embeddings': config.max_position_embeddings,
        'rope_theta': float(config.rope_parameters['rope_theta'] if getattr(config, 'rope_parameters', None) else config.rope_theta),
        'rope_scaling': None,
        'rms_norm_eps': config.rms_norm_eps,
        'tie_word_embeddings': True,
        'use_sliding_window': False,
        'sliding_window': None,
        'max_window_layers': config.num_hidden_layers,
        'attention_dropout': 0.0,
        'initializer_range': config.initializer_range,
        'use_cache': True,
        'bos_token_id': config.bos_token_id,
        'eos_token_id': config.eos_token_id,
        'torch_dtype': 'bfloat16',
    }


def write_shards(state: dict, out: str, shard_bytes: int) -> None:
    shards, current, size = [], {}, 0
    for name in sorted(state):
        tensor = state[name].to(torch.bfloat16).contiguous()
        nbytes = tensor.numel() * tensor.element_size()
        # A tensor over the limit (the embedding, 16 MiB at 16k x 512) gets a shard of its own.
        if current and size + nbytes > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = tensor
        size += nbytes
    shards.append(current)
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        file = f'model-{i + 1:05d}-of-{len(shards):05d}.safetensors'
        save_file(shard, os.path.join(out, file), metadata={'format': 'pt'})
        for name, tensor in shard.items():
            weight_map[name] = file
            total += tensor.numel() * tensor.element_size()
    with open(os.path.join(out, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)


def write_checksums(out: str) -> None:
    files = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(('.safetensors', '.json')) and name != 'checksums.json':
            with open(os.path.join(out, name), 'rb') as f:
                data = f.read()
            files[name] = {'bytes': len(data), 'sha256': hashlib.sha256(data).hexdigest()}
    with open(os.path.join(out, 'checksums.json'), 'w') as f:
        json.dump({'files': files}, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--checkpoint', required=True, help='model.pt from train.py')
    parser.add_argument('--tokenizer', required=True, help='folder with tokenizer.json and tokenizer_config.json')
    parser.add_argument('--shard-mib', type=float, default=14)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    saved = torch.load(args.checkpoint, map_location='cpu', weights_only=False)
    config = Qwen2Config.from_dict(saved['config'])
    state = {k: v for k, v in saved['state_dict'].items() if k != 'lm_head.weight'}
    write_shards(state, args.out, int(args.shard_mib * 1024 * 1024))
    with open(os.path.join(args.out, 'config.json'), 'w') as f:
        json.dump(hf_config(config), f, indent=2)
    for name in ('tokenizer.json', 'tokenizer_config.json'):
        shutil.copy(os.path.join(args.tokenizer, name), os.path.join(args.out, name))
    tokenizer = Tokenizer.from_file(os.path.join(args.tokenizer, 'tokenizer.json'))
    eos = [tokenizer.token_to_id('<|endoftext|>'), tokenizer.token_to_id('<|file_sep|>')]
    with open(os.path.join(args.out, 'generation_config.json'), 'w') as f:
        json.dump({'bos_token_id': eos[0], 'eos_token_id': eos, 'pad_token_id': tokenizer.token_to_id('<|fim_pad|>'), 'do_sample': False}, f, indent=2)
    write_checksums(args.out)

    # The folder must load in transformers and give the trained model's logits.
    trained = Qwen2ForCausalLM(config)
    trained.load_state_dict(saved['state_dict'])
    for p in trained.parameters():  # weights as exported; buffers (RoPE's inv_freq) stay fp32, as a reload computes them
        p.data = p.data.to(torch.bfloat16).float()
    trained.eval()
    reloaded = Qwen2ForCausalLM.from_pretrained(args.out, dtype=torch.float32).eval()
    ids = tokenizer.encode(REFERENCE_TEXT, add_special_tokens=False).ids
    with torch.no_grad():
        expected = trained(input_ids=torch.tensor([ids])).logits[0]
        actual = reloaded(input_ids=torch.tensor([ids])).logits[0]
    difference = (expected - actual).abs().max().item()
    if difference > 1e-3:
        raise SystemExit(f'export: the reloaded checkpoint differs from the trained model by {difference} in the logits')
    positions = [0, len(ids) // 2, len(ids) - 1]
    with open(os.path.join(args.out, '..', 'reference-logits.json'), 'w') as f:
        json.dump({'text': REFERENCE_TEXT, 'ids': ids, 'positions': positions,
                   'logits': [[round(x, 5) for x in actual[p].tolist()] for p in positions],
                   'argmax': actual.argmax(-1).tolist()}, f)
    print(f'export: {args.out} reloads with max |Δlogit| {difference:.2e}', flush=True)


if __name__ == '__main__':
    main()
