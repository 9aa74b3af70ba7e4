#!/usr/bin/env python3
"""Writes a tiny random-weight llama GGUF around a real tokenizer and chat template.

The real-engine test lane needs a model that llama-server loads like any other, without a
download: llama.cpp's source carries vocabulary-only GGUF files (tokenizer + chat template, no
weights). This script copies one of them (Qwen2's by default) and adds 2 layers of seeded random
weights (~20 M parameters, ~64 MB), so tokenizer, chat template, sampling, streaming, usage,
metrics and slots are the engine's own; only the text is gibberish.

Two facts shape the weights:
- Random logits pick byte-fragment tokens that are not whole UTF-8; llama-server then answers
  500 on longer requests. Every output row but those of "allowed" tokens is pushed far down, so
  only allowed tokens come out: a space followed by ASCII lowercase letters, each token being
  exactly what BPE makes of its own text. Any sequence of them re-tokenizes into the same ids,
  so a continuation (prompt + text so far) sees the context the uninterrupted run saw.
- Such a model never emits end-of-sequence (EOS is not allowed): requests end at max_tokens or
  a stop string.

The bias needs a constant hidden dimension: dimension 0 of every token embedding is DIM0 and no
layer writes to it (row 0 of attn_output and ffn_down is zero), so after the final RMS norm it is
always positive; output rows carry -BIAS there for the tokens not allowed and 0 for the allowed
ones. Allowed logits thus stay small (no large common term whose float rounding differs from token
to token), and the output matrix is F32 (an F16 one makes llama.cpp round the hidden state to F16
first): at temperature 0 the answer should hinge on the model, not on rounding. Near-ties remain
(logit gaps of 1e-4 occur): a run is batch-invariant only when the engine is (llama.cpp on CPU:
with --flash-attn off).

Usage: PYTHONPATH=<llama.cpp>/gguf-py python3 tiny-gguf.py --vocab <vocab.gguf> --out <model.gguf>
Deterministic: the same vocabulary and seed give the same bytes.
"""

import argparse
import os
import re
import sys

try:
    import numpy as np
except ImportError:
    sys.exit("tiny-gguf: python3 numpy is missing (apt-get install python3-numpy)")
try:
    import gguf
except ImportError:
    sys.exit("tiny-gguf: the gguf module is missing (set PYTHONPATH to llama.cpp's gguf-py directory)")

N_EMBD = 64
N_LAYER = 2
N_HEAD = 4
N_FF = 256
N_CTX_TRAIN = 32768
# The constant hidden dimension: large enough that it keeps >= ~0.3 of the normalised hidden state
# whatever the layers add (a 0.5 layer scale made the residual stream 100x larger and the bias vanish).
DIM0 = 4.0
# Against the rest of a logit (std ~8): allowed tokens win by hundreds, at any temperature.
BIAS = 512.0  # subtracted (times dimension 0, >= ~0.4 after the norm) from every token not allowed
# Scale of the layers' weights: the context, not only the last token, moves the output (the layers'
# share of the residual stream is ~6x the embedding's), without swamping dimension 0.
LAYER_SCALE = 0.2
ALLOWED = re.compile(r"^\u0120[a-z]{2,12}$")  # byte-level BPE spells a leading space as U+0120


def field(reader, name):
    f = reader.fields.get(name)
    return None if f is None else f.contents()


def bpe_ranks(merges):
    return {tuple(m.split(" ", 1)): i for i, m in enumerate(merges)}


def bpe(word, ranks):
    """Byte-level BPE of one pre-token (already in byte-level characters), as the tokenizer does it."""
    parts = list(word)
    while len(parts) > 1:
        best = None
        for i in range(len(parts) - 1):
            r = ranks.get((parts[i], parts[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def allowed_tokens(tokens, types, ranks):
    out = []
    for i, t in enumerate(tokens):
        if types[i] == gguf.TokenType.NORMAL and ALLOWED.match(t) and bpe(t, ranks) == [t]:
            out.append(i)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vocab", required=True, help="vocabulary-only GGUF from llama.cpp's models/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20240601)
    a = ap.parse_args()

    reader = gguf.GGUFReader(a.vocab)
    tokens = field(reader, "tokenizer.ggml.tokens")
    types = field(reader, "tokenizer.ggml.token_type")
    merges = field(reader, "tokenizer.ggml.merges")
    if not tokens or not merges:
        sys.exit(f"tiny-gguf: {a.vocab} has no BPE tokenizer")
    allowed = allowed_tokens(tokens, types, bpe_ranks(merges))
    if len(allowed) < 1000:
        sys.exit(f"tiny-gguf: only {len(allowed)} whole-word tokens in {a.vocab}")
    n_vocab = len(tokens)

    rng = np.random.default_rng(a.seed)
    head_dim = N_EMBD // N_HEAD

    def rand(*shape, scale):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    tok_embd = rand(n_vocab, N_EMBD, scale=1.0)
    tok_embd[:, 0] = DIM0
    output = rand(n_vocab, N_EMBD, scale=1.0)
    output[:, 0] = -BIAS
    output[allowed, 0] = 0.0

    tmp = a.out + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_name("synkti-tiny-random")
    w.add_context_length(N_CTX_TRAIN)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_tokenizer_model(field(reader, "tokenizer.ggml.model"))
    w.add_tokenizer_pre(field(reader, "tokenizer.ggml.pre"))
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    for key, add in (
        ("tokenizer.ggml.bos_token_id", w.add_bos_token_id),
        ("tokenizer.ggml.eos_token_id", w.add_eos_token_id),
        ("tokenizer.ggml.padding_token_id", w.add_pad_token_id),
    ):
        value = field(reader, key)
        if value is not None:
            add(int(value))
    w.add_add_bos_token(False)
    template = field(reader, "tokenizer.chat_template")
    if template:
        w.add_chat_template(template)

    w.add_tensor("token_embd.weight", tok_embd.astype(np.float16))
    w.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    w.add_tensor("output.weight", output)
    for b in range(N_LAYER):
        attn_out = rand(N_EMBD, N_EMBD, scale=LAYER_SCALE)
        attn_out[0, :] = 0.0  # dimension 0 stays constant: the output bias relies on it
        ffn_down = rand(N_EMBD, N_FF, scale=LAYER_SCALE)
        ffn_down[0, :] = 0.0
        w.add_tensor(f"blk.{b}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{b}.attn_q.weight", rand(N_EMBD, N_EMBD, scale=LAYER_SCALE))
        w.add_tensor(f"blk.{b}.attn_k.weight", rand(N_EMBD, N_EMBD, scale=LAYER_SCALE))
        w.add_tensor(f"blk.{b}.attn_v.weight", rand(N_EMBD, N_EMBD, scale=LAYER_SCALE))
        w.add_tensor(f"blk.{b}.attn_output.weight", attn_out)
        w.add_tensor(f"blk.{b}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        w.add_tensor(f"blk.{b}.ffn_gate.weight", rand(N_FF, N_EMBD, scale=LAYER_SCALE))
        w.add_tensor(f"blk.{b}.ffn_up.weight", rand(N_FF, N_EMBD, scale=LAYER_SCALE))
        w.add_tensor(f"blk.{b}.ffn_down.weight", ffn_down)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, a.out)
    print(f"tiny-gguf: wrote {a.out} ({os.path.getsize(a.out) // 1_000_000} MB, {len(allowed)} of {n_vocab} tokens allowed)")


if __name__ == "__main__":
    main()
