"""Analytic forward FLOPs of a hub model, from its config.json values (a multiply-add counted as 2).

Per token: every weight matrix once (q, k, v, o, the MLP, the output layer of a language model);
per sequence: attention's two T x T products per layer, counted in full as kernels compute them.
Checked against PyTorch's FLOP counter at tiny size (tests/test_hub_workloads.py).
"""

from __future__ import annotations


def _shape(config: dict) -> dict:
    """Dimensions under one set of names, whichever naming the architecture's config uses."""
    if config.get("model_type") == "gpt2" or "n_embd" in config:
        d = config["n_embd"]
        return {"d": d, "layers": config["n_layer"], "q": d, "kv": d, "mlp": 2 * d * (config.get("n_inner") or 4 * d)}
    d, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim = config.get("head_dim") or d // heads
    kv_heads = config.get("num_key_value_heads", heads)
    gated = "num_key_value_heads" in config  # Llama, Gemma, Qwen: gate, up and down projections
    inter = config["intermediate_size"]
    return {"d": d, "layers": config["num_hidden_layers"], "q": heads * head_dim, "kv": kv_heads * head_dim,
            "mlp": (3 if gated else 2) * d * inter}


def forward_flops(config: dict, length: int, task: str, classes: int = 2) -> float:
    """Forward FLOPs of one sequence of ``length`` tokens."""
    s = _shape(config)
    d = s["d"]
    attention_weights = d * s["q"] * 2 + d * s["kv"] * 2  # q and o; k and v
    per_token = s["layers"] * (attention_weights + s["mlp"])
    attention = s["layers"] * 2 * 2 * length * length * s["q"]
    if task == "language_model":
        per_token += d * config["vocab_size"]  # the output layer, at every position
        return 2 * per_token * length + attention
    return 2 * per_token * length + attention + 2 * (d * d + d * classes)  # pooler and classifier: one token


def vision_forward_flops(config: dict, classes: int, extra_tokens: int = 1, head_inputs: int = 1) -> float:
    """Forward FLOPs of one image through a vision transformer: the patch embedding, then the encoder over the
    patches and ``extra_tokens`` more (the class token; DeiT's distillation token too), then the classifier on one
    token (DINOv2's: the class token beside the patches' mean, ``head_inputs`` 2)."""
    patches = (config["image_size"] // config["patch_size"]) ** 2
    tokens = patches + extra_tokens
    d, layers = config["hidden_size"], config["num_hidden_layers"]
    inter = config.get("intermediate_size") or int(d * config["mlp_ratio"])
    embedding = 2 * patches * config["patch_size"] ** 2 * config.get("num_channels", 3) * d
    per_token = layers * (4 * d * d + 2 * d * inter)
    attention = layers * 2 * 2 * tokens * tokens * d
    return embedding + 2 * per_token * tokens + attention + 2 * head_inputs * d * classes


def swin_forward_flops(config: dict, classes: int) -> float:
    """Forward FLOPs of one image through a Swin transformer: the patch embedding; at each stage, every block's
    projections and MLP over all tokens and its attention within windows of M×M tokens (2·N·M²·C); the patch
    merging between stages (4C → 2C on a quarter of the tokens); the classifier."""
    side = config["image_size"] // config["patch_size"]
    dim, ratio = config["embed_dim"], config.get("mlp_ratio", 4.0)
    total = side * side * config["patch_size"] ** 2 * config.get("num_channels", 3) * dim
    for stage, depth in enumerate(config["depths"]):
        tokens, window = side * side, min(config["window_size"], side)
        total += depth * (tokens * dim * dim * (4 + 2 * ratio) + 2 * tokens * window * window * dim)
        if stage < len(config["depths"]) - 1:
            total += 2 * tokens * dim * dim  # merging: (N/4) tokens, 4C in, 2C out
            side, dim = side // 2, dim * 2
    return 2 * (total + dim * classes)
