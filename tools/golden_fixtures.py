"""
Golden reference fixtures for Heed's engine: tiny random-weight Hugging Face checkpoints of
each supported family (qwen2, llama, mistral) and the logits a reference forward pass gives
for a few prompts. test/unit/engine/golden.test.ts checks the engine against them.

Usage (from the repository root; Python is needed only to regenerate, never to test):

    bash tools/setup_python_reference.sh                       # Debian numpy for /usr/bin/python3
    node esbuild.mjs && node dist/cli.js make-tiny-model --out /tmp/heed-tiny   # tokenizer files
    /usr/bin/python3 tools/golden_fixtures.py                  # writes test/fixtures/golden/<family>/
    /usr/bin/python3 tools/golden_fixtures.py --check          # recomputes, compares, writes nothing

Options:
    --backend numpy|transformers   what computes golden.json (default numpy). numpy is the
                                   forward pass written below in float64; transformers loads
                                   the written folder with AutoModelForCausalLM in float32.
    --check                        recompute every family's golden.json with numpy, and with
                                   transformers when it is importable; compare them with each
                                   other and with the committed files; exit 1 on a mismatch.
    --out DIR                      fixture root (default test/fixtures/golden)
    --tokenizer-dir DIR            where tokenizer.json, tokenizer_config.json and
                                   generation_config.json are copied from (default /tmp/heed-tiny)
    --families a,b                 a subset of qwen2,llama,mistral

Each family folder holds config.json, model.safetensors (fp32), the byte-level tokenizer of
Heed's tiny model (259 tokens) and golden.json. Logits in golden.json are decimal numbers
rounded to 6 significant digits. Weights come from a counter-based integer generator
(splitmix64) and need no libm, so the same command writes the same bytes; golden.json is
byte-stable on the same machine (a different BLAS may move a 6th digit).
"""
import argparse
import json
import math
import os
import shutil
import struct
import sys

import numpy as np

# -----------------------------------------------------------------------------
# the three tiny checkpoints: each exercises what its family does differently

VOCAB_SIZE = 259 # 256 bytes + <|endoftext|>, <|file_sep|>, <|repo_name|>: Heed's tiny tokenizer
EOS_ID = 256     # <|endoftext|>
COMMON = dict(
    hidden_size=64,            # small enough that a folder is ~0.4 MB, large enough for 4+ heads
    intermediate_size=128,     # 2x hidden, as in real SwiGLU models (roughly)
    num_hidden_layers=2,       # two, so that layer l+1 reads what layer l wrote to the residual
    max_position_embeddings=512, # > longest prompt + greedy tokens (150 + 8)
    hidden_act="silu",
    initializer_range=0.02,    # only informative: the weights below are not HF's init
    attention_dropout=0.0,
    use_cache=True,
    bos_token_id=EOS_ID,
    eos_token_id=EOS_ID,
    torch_dtype="float32",
)
FAMILIES = {
    # Qwen2: q/k/v biases, grouped-query attention (2 query heads per KV head), untied lm_head.
    "qwen2": dict(COMMON, architectures=["Qwen2ForCausalLM"], model_type="qwen2",
                  num_attention_heads=4, num_key_value_heads=2, rope_theta=1000000.0,
                  rms_norm_eps=1e-6, tie_word_embeddings=False, use_sliding_window=False,
                  sliding_window=None, rope_scaling=None),
    # Llama 3 style: no biases, plain multi-head attention, tied embeddings, theta 500000.
    "llama": dict(COMMON, architectures=["LlamaForCausalLM"], model_type="llama",
                  num_attention_heads=4, num_key_value_heads=4, head_dim=16, rope_theta=500000.0,
                  rms_norm_eps=1e-5, tie_word_embeddings=True, attention_bias=False,
                  mlp_bias=False, pretraining_tp=1, rope_scaling=None),
    # Mistral: no biases, 4 query heads per KV head, untied; head_dim 16 with 8 heads makes
    # the attention width (128) differ from hidden_size (64), as in Mistral Nemo.
    "mistral": dict(COMMON, architectures=["MistralForCausalLM"], model_type="mistral",
                    num_attention_heads=8, num_key_value_heads=2, head_dim=16, rope_theta=10000.0,
                    rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=None,
                    rope_scaling=None),
}
SEEDS = {"qwen2": 1, "llama": 2, "mistral": 3} # one weight stream per family

# prompts: two short ones from code bytes (the tokenizer maps byte b to id b), one long
# random one over the whole vocabulary, special tokens included
PROMPT_TEXTS = [b"import ", b"export function add(a: number, b: number"] # 7 and 40 tokens
LONG_PROMPT_TOKENS = 150       # several chunks of 16 and more than one of 64
LONG_PROMPT_POSITIONS = [0, 31, 77, LONG_PROMPT_TOKENS - 1] # first, chunk edges, last
PROMPT_SEED = 99
GREEDY_TOKENS = 8
FILES_FROM_TOKENIZER_DIR = ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]
CHECK_TOLERANCE = 1e-4         # numpy vs transformers (fp64 vs fp32) and vs 6-digit JSON

def head_dim(cfg):
    return cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]

# -----------------------------------------------------------------------------
# deterministic numbers: splitmix64 over a counter, integers only

MASK64 = (1 << 64) - 1

def splitmix64(seed, n):
    """n uint64s of splitmix64 started at `seed`: element i mixes seed + (i+1)*golden."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed & MASK64) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

class Stream:
    """Draws successive blocks from one splitmix64 sequence."""
    def __init__(self, seed):
        self.seed, self.used = seed, 0

    def bits(self, n):
        out = splitmix64(self.seed + self.used * 0x9E3779B97F4A7C15, n)
        self.used += n
        return out

    def uniform(self, shape, low, high):
        """float32 uniform in [low, high): 24 random bits, exact in float32 before scaling."""
        n = int(np.prod(shape))
        unit = (self.bits(n) >> np.uint64(40)).astype(np.float64) / float(1 << 24) # (n,) in [0, 1)
        return (low + (high - low) * unit).astype(np.float32).reshape(shape)

def random_weights(cfg, seed):
    """HF-named fp32 tensors; uniform with std ~1/sqrt(fan_in) so activations stay O(1)."""
    s = Stream(seed)
    C, F, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)

    def linear(out_dim, in_dim, gain=1.0): # uniform [-a, a) has std a/sqrt(3)
        a = gain * math.sqrt(3.0 / in_dim)
        return s.uniform((out_dim, in_dim), -a, a)

    def norm(dim): # near 1, but not 1, so that a missing norm weight shows
        return s.uniform((dim,), 0.8, 1.2)

    # Tied, the embedding is also lm_head: at std 1 the residual stays near the input token's
    # own row and greedy just repeats it, so it is kept small beside the layers' outputs.
    e = math.sqrt(3) * (0.15 if cfg["tie_word_embeddings"] else 1.0)
    w = {"model.embed_tokens.weight": s.uniform((V, C), -e, e)} # (V, C)
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(C)
        w[p + "self_attn.q_proj.weight"] = linear(nh * hd, C, gain=1.5)   # peakier attention
        w[p + "self_attn.k_proj.weight"] = linear(nkv * hd, C, gain=1.5)
        w[p + "self_attn.v_proj.weight"] = linear(nkv * hd, C)
        if bias:
            w[p + "self_attn.q_proj.bias"] = s.uniform((nh * hd,), -0.5, 0.5)
            w[p + "self_attn.k_proj.bias"] = s.uniform((nkv * hd,), -0.5, 0.5)
            w[p + "self_attn.v_proj.bias"] = s.uniform((nkv * hd,), -0.5, 0.5)
        w[p + "self_attn.o_proj.weight"] = linear(C, nh * hd)
        w[p + "post_attention_layernorm.weight"] = norm(C)
        w[p + "mlp.gate_proj.weight"] = linear(F, C)
        w[p + "mlp.up_proj.weight"] = linear(F, C)
        w[p + "mlp.down_proj.weight"] = linear(C, F)
    w["model.norm.weight"] = norm(C)
    if not cfg["tie_word_embeddings"]:
        w["lm_head.weight"] = linear(V, C, gain=3.0) # logits std ~3: clear greedy winners
    return w

def prompts():
    long_ids = (Stream(PROMPT_SEED).bits(LONG_PROMPT_TOKENS) % np.uint64(VOCAB_SIZE)).astype(int)
    return [list(t) for t in PROMPT_TEXTS] + [long_ids.tolist()]

# -----------------------------------------------------------------------------
# safetensors: u64 little-endian header length, JSON header, raw little-endian data

def write_safetensors(path, tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors): # sorted names, data in the same order, as safetensors does
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8) # pad so that the data starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))

def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        assert e["dtype"] == "F32", f"{name}: only F32 is written here, got {e['dtype']}"
        begin, end = e["data_offsets"]
        out[name] = np.frombuffer(raw, dtype="<f4", count=(end - begin) // 4, offset=8 + n + begin).reshape(e["shape"])
    return out

# -----------------------------------------------------------------------------
# the reference forward pass: Hugging Face's Llama/Qwen2/Mistral, in float64

def rms_norm(x, w, eps):
    # HF: x * rsqrt(mean(x^2) + eps), in fp32 at least, then times the weight
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w

def rope_tables(cfg, T):
    """cos, sin (T, hd) for positions [0, T), rotate-half layout: each half repeated."""
    hd = head_dim(cfg)
    # HF computes inv_freq and position * inv_freq in fp32: round where it rounds, so that
    # the angles are HF's, then take cos/sin in float64 (HF's fp32 cos is within an ulp).
    inv_freq = (1.0 / cfg["rope_theta"] ** (np.arange(0, hd, 2, dtype=np.float64) / hd)).astype(np.float32) # (hd/2,)
    angles = (np.arange(T, dtype=np.float64)[:, None] * inv_freq.astype(np.float64)).astype(np.float32) # (T, hd/2)
    emb = np.concatenate([angles, angles], axis=-1).astype(np.float64) # (T, hd)
    return np.cos(emb), np.sin(emb)

def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)

def numpy_forward(folder):
    """Returns forward(ids) -> logits (T, V) float64, reading the folder as HF would."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    w = {k: v.astype(np.float64) for k, v in read_safetensors(os.path.join(folder, "model.safetensors")).items()}
    L, eps = cfg["num_hidden_layers"], cfg["rms_norm_eps"]
    nh, nkv, hd = cfg["num_attention_heads"], cfg["num_key_value_heads"], head_dim(cfg)
    lm_head = w["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings") else w["lm_head.weight"] # (V, C)

    def linear(x, name): # HF stores Linear weights as (out, in)
        y = x @ w[name + ".weight"].T
        return y + w[name + ".bias"] if name + ".bias" in w else y

    def forward(ids):
        T = len(ids)
        cos, sin = rope_tables(cfg, T) # (T, hd)
        causal = np.triu(np.full((T, T), -np.inf), k=1) # (T, T) position t sees [0, t]
        x = w["model.embed_tokens.weight"][np.asarray(ids)] # (T, C)
        for l in range(L):
            p = f"model.layers.{l}."
            h = rms_norm(x, w[p + "input_layernorm.weight"], eps) # (T, C)
            q = linear(h, p + "self_attn.q_proj").reshape(T, nh, hd).transpose(1, 0, 2) # (nh, T, hd)
            k = linear(h, p + "self_attn.k_proj").reshape(T, nkv, hd).transpose(1, 0, 2) # (nkv, T, hd)
            v = linear(h, p + "self_attn.v_proj").reshape(T, nkv, hd).transpose(1, 0, 2) # (nkv, T, hd)
            q = q * cos + rotate_half(q) * sin # (nh, T, hd)
            k = k * cos + rotate_half(k) * sin # (nkv, T, hd)
            # HF's repeat_kv: query head i reads KV head i // (nh / nkv)
            k = np.repeat(k, nh // nkv, axis=0) # (nh, T, hd)
            v = np.repeat(v, nh // nkv, axis=0) # (nh, T, hd)
            att = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + causal # (nh, T, T)
            att = np.exp(att - att.max(axis=-1, keepdims=True))
            att = att / att.sum(axis=-1, keepdims=True)
            y = (att @ v).transpose(1, 0, 2).reshape(T, nh * hd) # (T, nh*hd)
            x = x + linear(y, p + "self_attn.o_proj") # (T, C)
            h = rms_norm(x, w[p + "post_attention_layernorm.weight"], eps) # (T, C)
            gate = linear(h, p + "mlp.gate_proj") # (T, F)
            x = x + linear(gate / (1.0 + np.exp(-gate)) * linear(h, p + "mlp.up_proj"), p + "mlp.down_proj") # (T, C)
        return rms_norm(x, w["model.norm.weight"], eps) @ lm_head.T # (T, V)

    return forward

def transformers_forward(folder):
    """The same, through transformers' own modeling code in float32 (eager attention)."""
    import torch
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager").float().eval()

    def forward(ids):
        with torch.no_grad():
            logits = model(input_ids=torch.tensor([ids], dtype=torch.long), use_cache=False).logits # (1, T, V)
        return logits[0].double().numpy() # (T, V)

    return forward

def transformers_available():
    try:
        import torch, transformers # noqa: F401
        return True
    except ImportError:
        return False

BACKENDS = {"numpy": numpy_forward, "transformers": transformers_forward}

# -----------------------------------------------------------------------------
# golden numbers and their JSON

def golden(forward, family, backend):
    """Last-position logits per prompt, chosen positions of the longest, greedy tokens."""
    entries = []
    all_prompts = prompts()
    for i, ids in enumerate(all_prompts):
        logits = forward(ids) # (T, V)
        entry = {"ids": ids, "last_logits": logits[-1]}
        if i == len(all_prompts) - 1:
            entry["positions"] = [{"position": p, "logits": logits[p]} for p in LONG_PROMPT_POSITIONS]
        # Greedy: argmax (first of equals, like the engine's), appended one by one and the
        # whole sequence recomputed, so that no cache of ours is involved.
        seq, greedy, margin = list(ids), [], math.inf
        for _ in range(GREEDY_TOKENS):
            last = forward(seq)[-1] # (V,)
            top2 = np.sort(last)[-2:]
            margin = min(margin, float(top2[1] - top2[0]))
            greedy.append(int(np.argmax(last)))
            seq.append(greedy[-1])
        entry["greedy"] = greedy
        entry["greedy_min_margin"] = margin # top-1 minus top-2 logit, smallest over the 8 steps
        entries.append(entry)
    return {
        "family": family,
        "generator": f"tools/golden_fixtures.py --backend {backend}",
        "logits_format": "decimal, rounded to 6 significant digits",
        "prompts": entries,
    }

def round6(x):
    return float(f"{x:.6g}")

def to_json(value, indent=0):
    """JSON with objects one key a line and number lists on one line (small, diffable)."""
    pad = "  " * (indent + 1)
    if isinstance(value, np.ndarray):
        value = [round6(v) for v in value.tolist()]
    if isinstance(value, float):
        return json.dumps(round6(value))
    if isinstance(value, dict):
        items = [f"{pad}{json.dumps(k)}: {to_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "  " * indent + "}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "[\n" + ",\n".join(pad + to_json(v, indent + 1) for v in value) + "\n" + "  " * indent + "]"
    return json.dumps(value, separators=(",", ":"))

def compare(a, b):
    """max |Δlogit| over every stored logits vector, and whether all greedy tokens agree."""
    worst, same_greedy = 0.0, True
    for pa, pb in zip(a["prompts"], b["prompts"]):
        assert pa["ids"] == pb["ids"], "different prompts"
        pairs = [(pa["last_logits"], pb["last_logits"])]
        pairs += [(x["logits"], y["logits"]) for x, y in zip(pa.get("positions", []), pb.get("positions", []))]
        for x, y in pairs:
            worst = max(worst, float(np.max(np.abs(np.asarray(x, dtype=np.float64) - np.asarray(y, dtype=np.float64)))))
        same_greedy &= pa["greedy"] == pb["greedy"]
    return worst, same_greedy

# -----------------------------------------------------------------------------

def write_family(family, out_dir, tokenizer_dir, backend):
    cfg = dict(FAMILIES[family], vocab_size=VOCAB_SIZE)
    folder = os.path.join(out_dir, family)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(json.dumps(dict(sorted(cfg.items())), indent=2) + "\n")
    write_safetensors(os.path.join(folder, "model.safetensors"), random_weights(cfg, SEEDS[family]))
    for name in FILES_FROM_TOKENIZER_DIR:
        shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(folder, name))
    g = golden(BACKENDS[backend](folder), family, backend)
    with open(os.path.join(folder, "golden.json"), "w") as f:
        f.write(to_json(g) + "\n")
    margins = [p["greedy_min_margin"] for p in g["prompts"]]
    size = sum(os.path.getsize(os.path.join(folder, n)) for n in os.listdir(folder))
    print(f"{family}: wrote {folder} ({size / 1024:.0f} KiB), smallest greedy margin {min(margins):.3g}")

def check_family(family, out_dir):
    folder = os.path.join(out_dir, family)
    with open(os.path.join(folder, "golden.json")) as f:
        committed = json.load(f)
    ok = True
    ours = golden(numpy_forward(folder), family, "numpy")
    worst, same = compare(ours, committed)
    print(f"{family}: numpy vs committed golden.json: max |Δlogit| {worst:.3g}, greedy {'same' if same else 'DIFFERENT'}")
    ok &= worst <= CHECK_TOLERANCE and same
    if transformers_available():
        theirs = golden(transformers_forward(folder), family, "transformers")
        worst, same = compare(ours, theirs)
        print(f"{family}: numpy vs transformers: max |Δlogit| {worst:.3g}, greedy {'same' if same else 'DIFFERENT'}")
        ok &= worst <= CHECK_TOLERANCE and same
    return ok

def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="numpy")
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--out", default=os.path.join("test", "fixtures", "golden"))
    parser.add_argument("--tokenizer-dir", default="/tmp/heed-tiny")
    parser.add_argument("--families", default=",".join(FAMILIES))
    args = parser.parse_args()
    families = args.families.split(",")
    for family in families:
        if family not in FAMILIES:
            sys.exit(f"unknown family {family!r} (known: {', '.join(FAMILIES)})")
    if args.backend == "transformers" and not transformers_available():
        sys.exit("--backend transformers needs torch and transformers importable")

    if args.check:
        if not transformers_available():
            print("transformers is not importable: checking numpy against the committed files only")
        ok = all([check_family(family, args.out) for family in families])
        print("check passed" if ok else f"check FAILED (tolerance {CHECK_TOLERANCE})")
        sys.exit(0 if ok else 1)

    missing = [n for n in FILES_FROM_TOKENIZER_DIR if not os.path.exists(os.path.join(args.tokenizer_dir, n))]
    if missing:
        sys.exit(f"{args.tokenizer_dir} lacks {', '.join(missing)}; make it with: "
                 f"node esbuild.mjs && node dist/cli.js make-tiny-model --out {args.tokenizer_dir}")
    with open(os.path.join(args.tokenizer_dir, "tokenizer.json")) as f:
        tok = json.load(f)
    vocab = len(tok["model"]["vocab"]) + len(tok["added_tokens"])
    if vocab != VOCAB_SIZE:
        sys.exit(f"{args.tokenizer_dir}/tokenizer.json has {vocab} tokens; these fixtures are built for {VOCAB_SIZE}")
    for family in families:
        write_family(family, args.out, args.tokenizer_dir, args.backend)

if __name__ == "__main__":
    main()
