"""Trains Heed's embedded code model (a Hugging Face Qwen2) on the packed token streams.

Progress is max(tokens / --target-tokens, elapsed / --time-budget-s): the learning rate
(linear warm-up, cosine decay to 10 %) and the switch from --short-len to --long-len
windows (for the last --long-fraction of training) follow it, so a slower machine still
finishes its schedule inside the time budget, and says how many tokens it saw.

--init-from DIR continues from a Hugging Face Qwen2 folder (the shipped model, say) instead
of random weights: its shape and RoPE base are kept, and pack.py must have used its
tokenizer (the vocabulary size and special-token ids are checked). The schedule is the
same, so give it a smaller --lr and its own --time-budget-s.

Writes into --out: model.pt (fp32 state dict and config), train-log.jsonl (one line per
--log-every steps, held-out loss every --eval-every steps), train-summary.json.
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Qwen2Config, Qwen2ForCausalLM

MODEL_SHAPES = {
    # name: hidden, layers, heads, kv heads, intermediate
    'heed-code-30m': (512, 8, 8, 4, 1024),
    'smoke': (128, 2, 4, 4, 256),
}


def model_config(shape: str, vocab_size: int, special: dict, max_positions: int, rope_theta: float) -> Qwen2Config:
    hidden, layers, heads, kv_heads, intermediate = MODEL_SHAPES[shape]
    return Qwen2Config(
        vocab_size=vocab_size, hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
        num_attention_heads=heads, num_key_value_heads=kv_heads, max_position_embeddings=max_positions,
        rope_theta=rope_theta, rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
        hidden_act='silu', initializer_range=0.02, bos_token_id=special['endoftext'], eos_token_id=special['endoftext'],
        pad_token_id=special['fim_pad'])


def continued_model(folder: str, vocab_size: int, special: dict, max_positions: int) -> Qwen2ForCausalLM:
    """The model of a Hugging Face folder in fp32, checked against the packed streams' tokenizer."""
    model = Qwen2ForCausalLM.from_pretrained(folder, attn_implementation='sdpa', dtype=torch.float32)
    config = model.config
    if config.vocab_size != vocab_size:
        raise SystemExit(f'train: {folder} has a vocabulary of {config.vocab_size}, the token streams {vocab_size}: pack them with its tokenizer')
    with open(os.path.join(folder, 'tokenizer.json'), encoding='utf-8') as f:
        added = {t['content']: t['id'] for t in json.load(f)['added_tokens']}
    differing = [name for name, i in special.items() if added.get(f'<|{name}|>') != i]
    if differing:
        raise SystemExit(f'train: special tokens {differing} have other ids in {folder}: pack the streams with its tokenizer')
    config.max_position_embeddings = max(config.max_position_embeddings, max_positions)
    return model


class Windows:
    """Random non-overlapping windows of flat uint16 streams, as (inputs, targets) int64 on the GPU.

    Each row is a copy window (pack.py's copy-L.u16, aligned, L tokens each) with
    probability copy_rates[L], else a window of the train streams.
    """

    def __init__(self, paths: list, copy_paths: dict, copy_rates: dict, seed: int):
        self.streams = [np.memmap(p, dtype=np.uint16, mode='r') for p in paths]
        self.copy_streams = {n: np.memmap(p, dtype=np.uint16, mode='r') for n, p in copy_paths.items()}
        self.copy_rates = copy_rates
        self.copy_orders = {}
        self.rng = np.random.RandomState(seed)
        self.seed = seed
        self.epoch = -1
        self.length = 0
        self.order = []
        self.copy_rows = 0

    def copy_start(self, length: int) -> int:
        order = self.copy_orders.get(length)
        if not order:
            count = self.copy_streams[length].size // length - 1  # the last window lacks its next token
            order = self.copy_orders[length] = list(self.rng.permutation(count))
        return order.pop() * length

    def batch(self, batch_size: int, length: int, device):
        copies = self.rng.binomial(batch_size, self.copy_rates.get(length, 0.0)) if length in self.copy_streams else 0
        plain = batch_size - copies
        if length != self.length or len(self.order) < plain:
            self.epoch += 1
            self.length = length
            stream = self.streams[self.epoch % len(self.streams)]
            count = (stream.size - 1) // length
            self.order = list(np.random.RandomState(self.seed + self.epoch).permutation(count))
            self.stream = stream
        rows = [self.stream[s:s + length + 1] for s in (self.order.pop() * length for _ in range(plain))]
        copy_stream = self.copy_streams.get(length)
        rows += [copy_stream[s:s + length + 1] for s in (self.copy_start(length) for _ in range(copies))]
        self.copy_rows += copies
        rows = np.stack(rows).astype(np.int64)
        rows = torch.from_numpy(rows)
        rows = rows.pin_memory().to(device, non_blocking=True) if device.type == 'cuda' else rows
        return rows[:, :-1], rows[:, 1:]


def loss_of(model, inputs, targets):
    """Mean next-token loss; compiled whole with the model, so the fp32 logits are never materialized in full."""
    logits = model(input_ids=inputs).logits
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.reshape(-1))


@torch.no_grad()
def heldout_loss(model, stream, length: int, windows: int, device) -> float:
    model.eval()
    count = min(windows, (stream.size - 1) // length)
    losses = []
    for i in range(count):
        rows = torch.from_numpy(np.asarray(stream[i * length:i * length + length + 1], dtype=np.int64))[None].to(device)
        with torch.autocast('cuda', dtype=torch.bfloat16, enabled=device.type == 'cuda'):
            losses.append(loss_of(model, rows[:, :-1], rows[:, 1:]).item())
    model.train()
    return float(np.mean(losses)) if losses else float('nan')


def learning_rate(progress: float, peak: float, warmup: float) -> float:
    if progress < warmup:
        return peak * progress / warmup
    t = min(1.0, (progress - warmup) / (1 - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', required=True, help='folder from pack.py')
    parser.add_argument('--out', required=True)
    parser.add_argument('--shape', default='heed-code-30m', choices=sorted(MODEL_SHAPES))
    parser.add_argument('--init-from', help='a Hugging Face Qwen2 folder to continue from (its shape replaces --shape)')
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--target-tokens', type=float, default=5.3e8)
    parser.add_argument('--time-budget-s', type=float, default=1080)
    parser.add_argument('--short-len', type=int, default=4096)
    parser.add_argument('--long-len', type=int, default=16384)
    parser.add_argument('--long-fraction', type=float, default=0.2)
    parser.add_argument('--batch-tokens', type=int, default=65536)
    parser.add_argument('--copy-rate-short', type=float, default=0.2, help='share of --short-len rows that are copy windows')
    parser.add_argument('--copy-rate-long', type=float, default=0.4, help='share of --long-len rows that are copy windows')
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--warmup', type=float, default=0.02, help='fraction of progress')
    parser.add_argument('--rope-theta', type=float, default=500000)
    parser.add_argument('--compile', action='store_true')
    parser.add_argument('--log-every', type=int, default=20)
    parser.add_argument('--eval-every', type=int, default=500)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    with open(os.path.join(args.data, 'pack-summary.json')) as f:
        pack = json.load(f)
    special = pack['special_token_ids']
    vocab_size = pack['vocab_size']
    if args.init_from:
        model = continued_model(args.init_from, vocab_size, special, args.long_len).to(device)
        config = model.config
    else:
        config = model_config(args.shape, vocab_size, special, args.long_len, args.rope_theta)
        model = Qwen2ForCausalLM._from_config(config, attn_implementation='sdpa', dtype=torch.float32).to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f'train: {params / 1e6:.1f}M parameters on {device}', flush=True)
    step_loss = torch.compile(loss_of, dynamic=False) if args.compile else loss_of

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': no_decay, 'weight_decay': 0.0}],
                                  lr=args.lr, betas=(0.9, 0.95), eps=1e-8, fused=device.type == 'cuda')
    copy_paths = {n: os.path.join(args.data, f'copy-{n}.u16') for n in (args.short_len, args.long_len)}
    copy_paths = {n: p for n, p in copy_paths.items() if os.path.exists(p)}
    print(f'train: copy windows for lengths {sorted(copy_paths)}', flush=True)
    windows = Windows([os.path.join(args.data, f'train-{v}.u16') for v in (1, 2)], copy_paths,
                      {args.short_len: args.copy_rate_short, args.long_len: args.copy_rate_long}, args.seed)
    heldout = np.memmap(os.path.join(args.data, 'heldout.u16'), dtype=np.uint16, mode='r')

    log = open(os.path.join(args.out, 'train-log.jsonl'), 'w')
    start = time.time()
    tokens, step, window_loss, window_tokens, window_start = 0, 0, [], 0, time.time()
    progress = 0.0
    while progress < 1.0:
        length = args.short_len if progress < 1 - args.long_fraction else args.long_len
        batch_size = max(1, args.batch_tokens // length)
        lr = learning_rate(progress, args.lr, args.warmup)
        for group in optimizer.param_groups:
            group['lr'] = lr
        inputs, targets = windows.batch(batch_size, length, device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == 'cuda'):
            loss = step_loss(model, inputs, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        tokens += inputs.numel()
        window_tokens += inputs.numel()
        window_loss.append(loss.detach())
        progress = max(tokens / args.target_tokens, (time.time() - start) / args.time_budget_s)
        if step % args.log_every == 0 or progress >= 1.0:
            mean_loss = torch.stack(window_loss).mean().item()
            now = time.time()
            record = {'step': step, 'tokens': tokens, 'copy_rows': windows.copy_rows, 'seq_len': length, 'loss': round(mean_loss, 4), 'lr': lr,
                      'tokens_per_s': round(window_tokens / (now - window_start)), 'elapsed_s': round(now - start, 1)}
            if step % args.eval_every == 0 or progress >= 1.0:
                record['heldout_loss'] = round(heldout_loss(model, heldout, args.short_len, 16, device), 4)
            log.write(json.dumps(record) + '\n')
            log.flush()
            print(json.dumps(record), flush=True)
            window_loss, window_tokens, window_start = [], 0, time.time()
            if not math.isfinite(mean_loss):
                raise SystemExit(f'train: loss is {mean_loss} at step {step}')

    torch.save({'config': config.to_dict(), 'state_dict': model.state_dict()}, os.path.join(args.out, 'model.pt'))
    summary = {'parameters': params, 'steps': step, 'tokens': tokens, 'copy_rows': windows.copy_rows, 'elapsed_s': round(time.time() - start, 1),
               'reached_target_tokens': tokens >= args.target_tokens, **{k: v for k, v in vars(args).items() if k not in ('data', 'out')}}
    with open(os.path.join(args.out, 'train-summary.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print(f'train: {tokens / 1e6:.0f}M tokens in {summary["elapsed_s"]} s', flush=True)


if __name__ == '__main__':
    main()
