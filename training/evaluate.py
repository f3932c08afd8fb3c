"""Evaluates the exported model with PyTorch (Heed's engine repeats these with `heed eval`).

- held-out loss per token (nats) over the held-out packages, in 4k and 16k windows;
- single-line completion on repo-level cases from the held-out packages, with the
  package's other files in context (nearest paths last, up to --context-tokens) and
  without them: exact match, edit similarity, per kind;
- needle recall: a value defined in one file and used in another, 2k, 8k and 16k tokens
  later.
Prompts use Heed's layout: <|repo_name|>, <|file_sep|> per file, fill-in-the-middle in
SPM order (--fim-order psm for the other).
Writes eval.json and the case sets (repo-cases.jsonl, needle-cases.jsonl) into --out.
"""

import argparse
import difflib
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from tokenizers import Tokenizer
from transformers import Qwen2ForCausalLM

from cases import needle_cases, repo_cases


class Prompter:
    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.special = {n: tokenizer.token_to_id(f'<|{n}|>') for n in ('endoftext', 'fim_prefix', 'fim_middle', 'fim_suffix', 'repo_name', 'file_sep')}

    def encode(self, text: str) -> list:
        return self.tokenizer.encode(text, add_special_tokens=False).ids if text else []

    def prompt(self, case: dict, context_tokens: int, with_context: bool, fim_order='spm', prefix_tokens=2048, suffix_tokens=512) -> list:
        s = self.special
        prefix = [s['fim_prefix']] + self.encode(case['prefix'])[-prefix_tokens:]
        suffix = [s['fim_suffix']] + self.encode(case['suffix'])[:suffix_tokens]
        tail = [s['file_sep']] + self.encode(case['path'] + '\n') + (prefix + suffix if fim_order == 'psm' else suffix + prefix) + [s['fim_middle']]
        head = [s['repo_name']] + self.encode(case.get('repo', 'workspace') + '\n')
        files = []
        if with_context:
            budget = context_tokens - len(tail) - len(head)
            paths = list(case['workspace'])
            if case['kind'] != 'needle':  # nearest paths last, nearest kept first when the budget runs out
                paths.sort(key=lambda p: (-len(os.path.commonprefix([p, case['path']])), p))
                chosen = []
                for p in paths:
                    ids = [s['file_sep']] + self.encode(p + '\n') + self.encode(case['workspace'][p])
                    if len(ids) <= budget:
                        chosen.append(ids)
                        budget -= len(ids)
                files = [t for ids in reversed(chosen) for t in ids]
            else:
                for p in paths:
                    files += [s['file_sep']] + self.encode(p + '\n') + self.encode(case['workspace'][p])
                files = files[:max(0, budget)]
        return head + files + tail


@torch.no_grad()
def complete_line(model, prompter: Prompter, ids: list, device, max_new_tokens=48) -> str:
    out = model(input_ids=torch.tensor([ids], device=device), use_cache=True)
    past, generated = out.past_key_values, []
    token = int(out.logits[0, -1].argmax())
    for _ in range(max_new_tokens):
        if token in (prompter.special['endoftext'], prompter.special['file_sep']):
            break
        generated.append(token)
        if '\n' in prompter.tokenizer.decode(generated, skip_special_tokens=False):
            break
        out = model(input_ids=torch.tensor([[token]], device=device), past_key_values=past, use_cache=True)
        past, token = out.past_key_values, int(out.logits[0, -1].argmax())
    return prompter.tokenizer.decode(generated, skip_special_tokens=False).split('\n')[0]


def score(cases: list, predictions: list) -> dict:
    by_kind = {}
    for case, prediction in zip(cases, predictions):
        kind = by_kind.setdefault(case['kind'], {'cases': 0, 'exact': 0, 'similarity': 0.0})
        kind['cases'] += 1
        kind['exact'] += prediction.strip() == case['target'].strip()
        kind['similarity'] += difflib.SequenceMatcher(None, prediction.strip(), case['target'].strip()).ratio() * 100
    return {k: {'cases': v['cases'], 'exact_match': round(v['exact'] / v['cases'], 4), 'edit_similarity': round(v['similarity'] / v['cases'], 2)}
            for k, v in by_kind.items()}


@torch.no_grad()
def heldout_loss(model, stream, length: int, max_tokens: int, device) -> dict:
    count = min((stream.size - 1) // length, max(1, max_tokens // length))
    total, n = 0.0, 0
    for i in range(count):
        rows = torch.from_numpy(np.asarray(stream[i * length:(i + 1) * length + 1], dtype=np.int64))[None].to(device)
        logits = model(input_ids=rows[:, :-1]).logits.float()
        total += F.cross_entropy(logits.view(-1, logits.size(-1)), rows[0, 1:], reduction='sum').item()
        n += length
    return {'window_tokens': length, 'tokens': n, 'loss_per_token': round(total / max(n, 1), 4)}


def read_jsonl(path: str) -> list:
    with open(path, encoding='utf-8') as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path: str, rows: list) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        for row in rows:
            f.write(json.dumps(row) + '\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', required=True, help='exported model folder')
    parser.add_argument('--corpus', help='corpus.jsonl (its held-out packages make the cases)')
    parser.add_argument('--cases', help='a folder with repo-cases.jsonl and needle-cases.jsonl from an earlier run, instead of --corpus')
    parser.add_argument('--heldout-stream', help='heldout.u16 from pack.py (for the loss)')
    parser.add_argument('--context-tokens', type=int, default=8192)
    parser.add_argument('--repo-cases-per-package', type=int, default=6)
    parser.add_argument('--max-repo-cases', type=int, default=120)
    parser.add_argument('--needles-per-distance', type=int, default=30)
    parser.add_argument('--distances', default='2048,8192,16000')
    parser.add_argument('--loss-tokens', type=int, default=4_000_000)
    parser.add_argument('--fim-order', choices=('spm', 'psm'), default='spm')
    parser.add_argument('--parts', default='loss,repo,needle', help='which evaluations to run')
    parser.add_argument('--seed', type=int, default=1234)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    parts = set(args.parts.split(','))
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    dtype = torch.bfloat16 if device.type == 'cuda' else torch.float32
    model = Qwen2ForCausalLM.from_pretrained(args.model, dtype=dtype, attn_implementation='sdpa').to(device).eval()
    tokenizer = Tokenizer.from_file(os.path.join(args.model, 'tokenizer.json'))
    prompter = Prompter(tokenizer)
    started = time.time()

    heldout = []
    if args.corpus:
        with open(args.corpus, encoding='utf-8') as f:
            for line in f:
                package = json.loads(line)
                if package['split'] == 'heldout':
                    heldout.append(package)
    results = {'engine': f'pytorch on {device.type}', 'dtype': str(dtype).replace('torch.', ''), 'fim_order': args.fim_order}
    if heldout:
        results['heldout_packages'] = sorted(f"{p['name']}@{p['version']}" for p in heldout)

    if 'loss' in parts:
        stream = np.memmap(args.heldout_stream, dtype=np.uint16, mode='r')
        results['heldout_loss'] = [heldout_loss(model, stream, n, args.loss_tokens // (1 if n <= 4096 else 2), device) for n in (4096, 16384)]
        print(f"eval: held-out loss {results['heldout_loss']}", flush=True)
    if 'repo' in parts:
        evaluate_repo(args, model, prompter, heldout, device, results)
    if 'needle' in parts:
        evaluate_needles(args, model, prompter, heldout, device, results)
    results['elapsed_s'] = round(time.time() - started, 1)
    with open(os.path.join(args.out, 'eval.json'), 'w') as f:
        json.dump(results, f, indent=1)


def evaluate_repo(args, model, prompter, heldout, device, results):

    cases = read_jsonl(os.path.join(args.cases, 'repo-cases.jsonl')) if args.cases else repo_cases(heldout, args.repo_cases_per_package, args.seed)[:args.max_repo_cases]
    write_jsonl(os.path.join(args.out, 'repo-cases.jsonl'), cases)
    results['repo'] = {}
    for label, with_context in (('with_context', True), ('without_context', False)):
        predictions = [complete_line(model, prompter, prompter.prompt(c, args.context_tokens, with_context, args.fim_order), device) for c in cases]
        results['repo'][label] = score(cases, predictions)
        write_jsonl(os.path.join(args.out, f'repo-predictions-{label}.jsonl'), [{'id': c['id'], 'prediction': p} for c, p in zip(cases, predictions)])
    results['repo']['context_tokens'] = args.context_tokens
    print(f"eval: repo-level {results['repo']}", flush=True)


def evaluate_needles(args, model, prompter, heldout, device, results):
    fillers = [(p['language'], path, text) for p in heldout for path, text in p['files'] if p['language'] in ('python', 'typescript')]
    distances = [int(d) for d in args.distances.split(',')]
    if args.cases:
        needles = read_jsonl(os.path.join(args.cases, 'needle-cases.jsonl'))
        distances = sorted({c['needle_distance_tokens'] for c in needles})
    else:
        needles = needle_cases(fillers, lambda text: len(prompter.encode(text)), distances, args.needles_per_distance, args.seed)
    write_jsonl(os.path.join(args.out, 'needle-cases.jsonl'), needles)
    results['needle'] = {}
    for distance in distances:
        subset = [c for c in needles if c['needle_distance_tokens'] == distance]
        predictions = [complete_line(model, prompter, prompter.prompt(c, distance + 1024, True, args.fim_order), device) for c in subset]
        recall = float(np.mean([p.strip() == c['target'].strip() for c, p in zip(subset, predictions)])) if subset else float('nan')
        results['needle'][str(distance)] = {'cases': len(subset), 'recall': round(recall, 4),
                                            'examples': [[c['target'], p] for c, p in zip(subset[:4], predictions[:4])]}
    print(f"eval: needle {json.dumps({k: v['recall'] for k, v in results['needle'].items()})}", flush=True)


if __name__ == '__main__':
    main()
