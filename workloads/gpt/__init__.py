"""gpt: a small decoder-only transformer language model (pre-norm blocks, causal
self-attention, GELU MLP, learned positions), the NLP / LLM case.

Both frameworks use exact (erf) GELU and LayerNorm epsilon 1e-5 (Keras defaults
to tanh-approximate GELU and epsilon 1e-3). No dropout, no weight tying.
"""

from workloads.base import SizePreset, Workload
from workloads.data import markov_text
from workloads.weights import embedding, layer_norm, linear

LN_EPSILON = 1e-5
EMBED_STD = 0.02


def param_specs(settings, hyper):
    d, vocab = hyper["dim"], hyper["vocab"]
    specs = embedding("tok_emb", vocab, d, EMBED_STD) + embedding("pos_emb", hyper["length"], d, EMBED_STD)
    for i in range(hyper["layers"]):
        block = f"blocks.{i}"
        specs += layer_norm(f"{block}.ln1", d)
        for name in ("q", "k", "v", "proj"):
            specs += linear(f"{block}.attn.{name}", d, d)
        specs += layer_norm(f"{block}.ln2", d)
        specs += linear(f"{block}.mlp.fc", d, 4 * d) + linear(f"{block}.mlp.proj", 4 * d, d)
    return specs + layer_norm("ln_f", d) + linear("head", d, vocab, bias=False)


def forward_flops(settings, hyper):
    """Per sequence: the linear layers (2 FLOPs per weight per token) plus attention's two
    T x T x d products per layer (counted in full, as kernels compute them)."""
    d, t = hyper["dim"], hyper["length"]
    per_token_linear = hyper["layers"] * (4 * d * d + 8 * d * d) + d * hyper["vocab"]
    attention = hyper["layers"] * 2 * 2 * t * t * d
    return 2 * per_token_linear * t + attention


WORKLOAD = Workload(
    name="gpt",
    description="decoder-only transformer language model (causal self-attention), next-token loss",
    keras_builder="workloads.gpt.keras_model:build",
    torch_builder="workloads.gpt.torch_model:build",
    param_specs=param_specs,
    make_dataset=lambda settings, hyper: markov_text(settings, hyper["vocab"], hyper["length"]),
    sample_shape=lambda settings, hyper: (hyper["length"],),
    target_shape=lambda settings, hyper: (hyper["length"],),
    input_dtype="int32",
    num_classes=lambda hyper: hyper["vocab"],
    forward_flops=forward_flops,
    task="language_model",
    sizes={
        "tiny": SizePreset(steps=40, batch_size=8,
                           model={"vocab": 128, "length": 32, "dim": 64, "layers": 2, "heads": 2}),
        "small": SizePreset(steps=150, batch_size=16,
                            model={"vocab": 256, "length": 64, "dim": 128, "layers": 4, "heads": 4}),
        "base": SizePreset(steps=300, batch_size=32,
                           model={"vocab": 8192, "length": 256, "dim": 512, "layers": 8, "heads": 8}),
        "large": SizePreset(steps=300, batch_size=16,
                            model={"vocab": 32768, "length": 512, "dim": 768, "layers": 12, "heads": 12}),
    },
)
