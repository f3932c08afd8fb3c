"""Plots train-log.jsonl from train.py: training loss (and held-out loss) against tokens seen."""

import argparse
import json

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--log', required=True)
    parser.add_argument('--title', default='')
    parser.add_argument('--out', required=True, help='an .svg or .png file')
    args = parser.parse_args()
    rows = [json.loads(line) for line in open(args.log)]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot([r['tokens'] / 1e6 for r in rows], [r['loss'] for r in rows], lw=1, label='training loss (mean of the last steps)')
    held = [r for r in rows if 'heldout_loss' in r]
    ax.plot([r['tokens'] / 1e6 for r in held], [r['heldout_loss'] for r in held], 'o-', ms=3, label='held-out packages, 4k windows')
    switch = next((r['tokens'] / 1e6 for r in rows if r['seq_len'] != rows[0]['seq_len']), None)
    if switch is not None:
        ax.axvline(switch, color='grey', ls='--', lw=0.8, label=f"windows of {rows[-1]['seq_len']} tokens from here")
    ax.set_xlabel('tokens seen (millions)')
    ax.set_ylabel('loss per token (nats)')
    ax.set_ylim(top=min(6, max(r['loss'] for r in rows)))
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)


if __name__ == '__main__':
    main()
