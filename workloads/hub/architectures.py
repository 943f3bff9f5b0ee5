"""The Hugging Face architectures kvp-dash races: the Transformers class on the PyTorch side, the KerasHub
class that loads the same checkpoint on the Keras side, and sizes with the shapes of real checkpoints.

Framework-free: names, not classes. Offered only where KerasHub's own converter reproduces the
Transformers model (logits within 3e-7 at tiny size, measured; tests check it). Left out:
Mistral, whose KerasHub converter rounds the embeddings and the output layer to float16 (logits
differ by 1.3e-3 from the float32 model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workloads.base import SizePreset


@dataclass(frozen=True)
class HubArchitecture:
    model_type: str  # config.json's "model_type"
    config_class: str  # transformers.<name>
    torch_class: str  # transformers.<name>: the model the PyTorch runners train
    keras_backbone: str  # keras_hub.models.<name>: KerasHub's converter loads it from the checkpoint
    keras_task: str  # keras_hub.models.<name>: the task model around it that Keras trains
    task: str  # workloads.tasks name: "language_model" (next-token) or "classification"
    description: str
    sizes: dict[str, SizePreset] = field(default_factory=dict)
    # Which real checkpoint each large size has the shape of (for --list and the README).
    shapes_of: dict[str, str] = field(default_factory=dict)
    # Config values KerasHub's converter does not read, passed to the backbone by their KerasHub names.
    backbone_kwargs_from_config: dict[str, str] = field(default_factory=dict)
    # Dropout: HF config key(s) read to give the KerasHub backbone the same rate (None: KerasHub reads it).
    dropout_keys: tuple[str, ...] = ()
    inputs: str = "tokens"  # "tokens" (token ids, a sequence) or "images" (NHWC pixels; NCHW for PyTorch)
    extra_tokens: int = 1  # a vision transformer's tokens besides the patches: the class token (DeiT: distillation)

    @property
    def takes_images(self) -> bool:
        return self.inputs == "images"


def _decoder(hidden, inter, layers, heads, kv, vocab=256, **extra) -> dict:
    return {"vocab_size": vocab, "hidden_size": hidden, "intermediate_size": inter, "num_hidden_layers": layers,
            "num_attention_heads": heads, "num_key_value_heads": kv, **extra}


def _preset(steps, batch, length, config, **more) -> SizePreset:
    return SizePreset(steps=steps, batch_size=batch, model={"length": length, "config": config, **more})


LLAMA_3_2 = {"rope_theta": 500000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": True,
             "max_position_embeddings": 131072,
             "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}}
QWEN_2_5 = {"rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
            "max_position_embeddings": 32768, "use_sliding_window": False}
# Llama's and Qwen's CPU sizes: grouped-query attention (4 query heads share 2 key/value heads), untied output.
CPU_DECODERS = {
    "tiny": _preset(40, 8, 64, _decoder(64, 128, 2, 4, 2, tie_word_embeddings=False)),
    "small": _preset(60, 8, 128, _decoder(128, 384, 4, 4, 2, tie_word_embeddings=False)),
}
def _vision(image, patch, hidden, layers, heads, inter, classes=10, **extra) -> dict:
    """A vision transformer's config: no dropout, and LayerNorm's epsilon at 1e-6, the value KerasHub's layers
    use (Transformers' ViT default is 1e-12; KerasHub's ViT converter does not read it, so a checkpoint with
    another epsilon has it passed to the Keras side: ``backbone_kwargs_from_config``)."""
    return {"image_size": image, "patch_size": patch, "num_channels": 3, "hidden_size": hidden,
            "num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": inter,
            "num_labels": classes, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
            "layer_norm_eps": 1e-6, "qkv_bias": True, **extra}


def _images(steps, batch, config) -> SizePreset:
    return SizePreset(steps=steps, batch_size=batch, model={"config": config})


# Tiny and small suit a CPU; base and large have the shapes of the published checkpoints (ImageNet's 224 px
# and 16-px patches), with ten classes: the pattern images kvp-dash generates.
VISION_SIZES = {
    "tiny": _images(40, 8, _vision(32, 8, 64, 2, 4, 128)),
    "small": _images(60, 16, _vision(64, 8, 128, 4, 4, 512)),
    "base": _images(300, 32, _vision(224, 16, 768, 12, 12, 3072)),
    "large": _images(300, 16, _vision(224, 16, 1024, 24, 16, 4096)),
}
def _dinov2(image, patch, hidden, layers, heads, classes=10) -> dict:
    """A DINOv2 config: no dropout nor stochastic depth, LayerNorm's epsilon at 1e-6 (Transformers' default, and
    the value KerasHub's DINOv2 layers are fixed at), no register tokens."""
    return {"image_size": image, "patch_size": patch, "num_channels": 3, "hidden_size": hidden,
            "num_hidden_layers": layers, "num_attention_heads": heads, "mlp_ratio": 4, "num_labels": classes,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "drop_path_rate": 0.0,
            "layer_norm_eps": 1e-6, "layerscale_value": 1.0, "use_swiglu_ffn": False, "qkv_bias": True}


DINOV2_SIZES = {
    "tiny": _images(40, 8, _dinov2(32, 8, 64, 2, 4)),
    "small": _images(60, 16, _dinov2(64, 8, 128, 4, 4)),
    "base": _images(300, 32, _dinov2(224, 14, 768, 12, 12)),
    "large": _images(300, 16, _dinov2(224, 14, 1024, 24, 16)),
}


def _swin(image, patch, embed, depths, heads, window, classes=10) -> dict:
    """A Swin transformer's config: no dropout nor stochastic depth, LayerNorm's epsilon at Transformers' 1e-5,
    which KerasHub's Swin layers use (its converter does not read another)."""
    return {"image_size": image, "patch_size": patch, "num_channels": 3, "embed_dim": embed, "depths": depths,
            "num_heads": heads, "window_size": window, "mlp_ratio": 4.0, "qkv_bias": True, "num_labels": classes,
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "drop_path_rate": 0.0,
            "layer_norm_eps": 1e-5}


SWIN_SIZES = {
    "tiny": _images(40, 8, _swin(32, 4, 32, [2, 2], [2, 4], 4)),
    "small": _images(60, 16, _swin(64, 4, 48, [2, 2, 2], [2, 4, 8], 4)),
    "base": _images(300, 32, _swin(224, 4, 96, [2, 2, 6, 2], [3, 6, 12, 24], 7)),
    "large": _images(300, 16, _swin(224, 4, 128, [2, 2, 18, 2], [4, 8, 16, 32], 7)),
}
NO_DROPOUT_GPT2 = {"resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0}
NO_DROPOUT_BERT = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0}

ARCHITECTURES: dict[str, HubArchitecture] = {
    "llama": HubArchitecture(
        "llama", "LlamaConfig", "LlamaForCausalLM", "Llama3Backbone", "Llama3CausalLM", "language_model",
        "Llama 3 (Transformers LlamaForCausalLM vs KerasHub Llama3CausalLM), next-token loss on real text",
        sizes={
            **CPU_DECODERS,
            "base": _preset(300, 8, 1024, _decoder(2048, 8192, 16, 32, 8, vocab=128256, **LLAMA_3_2)),
            "large": _preset(300, 4, 1024, _decoder(3072, 8192, 28, 24, 8, vocab=128256, **LLAMA_3_2)),
        },
        shapes_of={"base": "Llama-3.2-1B", "large": "Llama-3.2-3B"},
        # KerasHub's Llama 3 converter leaves the RMSNorm epsilon at its default (1e-6); Llama 3.2 uses 1e-5.
        backbone_kwargs_from_config={"rms_norm_eps": "layer_norm_epsilon"},
    ),
    "gemma": HubArchitecture(
        "gemma", "GemmaConfig", "GemmaForCausalLM", "GemmaBackbone", "GemmaCausalLM", "language_model",
        "Gemma (Transformers GemmaForCausalLM vs KerasHub GemmaCausalLM), next-token loss on real text",
        sizes={
            "tiny": _preset(40, 8, 64, _decoder(64, 128, 2, 4, 1, head_dim=16)),
            "small": _preset(60, 8, 128, _decoder(128, 512, 4, 4, 1, head_dim=32)),
            "base": _preset(300, 8, 512, _decoder(2048, 16384, 18, 8, 1, vocab=256000, head_dim=256)),
            # Gemma-7B (8.5B parameters) does not train in float32 master weights with Adam on one GPU.
            "large": _preset(300, 4, 2048, _decoder(2048, 16384, 18, 8, 1, vocab=256000, head_dim=256)),
        },
        shapes_of={"base": "Gemma-2B, 512 tokens", "large": "Gemma-2B, 2048 tokens"},
    ),
    "gpt2": HubArchitecture(
        "gpt2", "GPT2Config", "GPT2LMHeadModel", "GPT2Backbone", "GPT2CausalLM", "language_model",
        "GPT-2 (Transformers GPT2LMHeadModel vs KerasHub GPT2CausalLM), next-token loss on real text",
        sizes={
            "tiny": _preset(40, 8, 64, {"vocab_size": 256, "n_embd": 64, "n_layer": 2, "n_head": 4,
                                        "n_positions": 64, **NO_DROPOUT_GPT2}),
            "small": _preset(60, 8, 128, {"vocab_size": 256, "n_embd": 128, "n_layer": 4, "n_head": 4,
                                          "n_positions": 128, **NO_DROPOUT_GPT2}),
            "base": _preset(300, 8, 1024, {"vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12,
                                           "n_positions": 1024, **NO_DROPOUT_GPT2}),
            "large": _preset(300, 4, 1024, {"vocab_size": 50257, "n_embd": 1280, "n_layer": 36, "n_head": 20,
                                            "n_positions": 1024, **NO_DROPOUT_GPT2}),
        },
        shapes_of={"base": "GPT-2 124M", "large": "GPT-2 Large 774M"},
    ),
    "qwen2": HubArchitecture(
        "qwen2", "Qwen2Config", "Qwen2ForCausalLM", "QwenBackbone", "QwenCausalLM", "language_model",
        "Qwen 2.5 (Transformers Qwen2ForCausalLM vs KerasHub QwenCausalLM), next-token loss on real text",
        sizes={
            **CPU_DECODERS,
            "base": _preset(300, 8, 1024, _decoder(896, 4864, 24, 14, 2, vocab=151936, **QWEN_2_5)),
            "large": _preset(300, 4, 1024, _decoder(1536, 8960, 28, 12, 2, vocab=151936, **QWEN_2_5)),
        },
        shapes_of={"base": "Qwen2.5-0.5B", "large": "Qwen2.5-1.5B"},
    ),
    "bert": HubArchitecture(
        "bert", "BertConfig", "BertForSequenceClassification", "BertBackbone", "BertTextClassifier",
        "classification",
        "BERT (Transformers BertForSequenceClassification vs KerasHub BertTextClassifier): "
        "is a passage documentation or source code",
        sizes={
            # From scratch, BERT's classifier stays near chance for about 60 steps before it learns (measured).
            "tiny": _preset(100, 8, 64, {"vocab_size": 256, "hidden_size": 64, "num_hidden_layers": 2,
                                        "num_attention_heads": 4, "intermediate_size": 256,
                                        "max_position_embeddings": 64, "num_labels": 2, **NO_DROPOUT_BERT}),
            "small": _preset(150, 16, 128, {"vocab_size": 256, "hidden_size": 128, "num_hidden_layers": 4,
                                           "num_attention_heads": 4, "intermediate_size": 512,
                                           "max_position_embeddings": 128, "num_labels": 2, **NO_DROPOUT_BERT}),
            "base": _preset(300, 32, 128, {"vocab_size": 30522, "hidden_size": 768, "num_hidden_layers": 12,
                                           "num_attention_heads": 12, "intermediate_size": 3072,
                                           "max_position_embeddings": 512, "num_labels": 2, **NO_DROPOUT_BERT}),
            "large": _preset(300, 16, 512, {"vocab_size": 30522, "hidden_size": 1024, "num_hidden_layers": 24,
                                            "num_attention_heads": 16, "intermediate_size": 4096,
                                            "max_position_embeddings": 512, "num_labels": 2, **NO_DROPOUT_BERT}),
        },
        shapes_of={"base": "BERT-base", "large": "BERT-large"},
        dropout_keys=("hidden_dropout_prob",),
    ),
    "vit": HubArchitecture(
        "vit", "ViTConfig", "ViTForImageClassification", "ViTBackbone", "ViTImageClassifier", "classification",
        "ViT (Transformers ViTForImageClassification vs KerasHub ViTImageClassifier) on pattern images",
        sizes=VISION_SIZES,
        shapes_of={"base": "ViT-B/16", "large": "ViT-L/16"},
        backbone_kwargs_from_config={"layer_norm_eps": "layer_norm_epsilon"},
        inputs="images",
    ),
    "deit": HubArchitecture(
        "deit", "DeiTConfig", "DeiTForImageClassification", "DeiTBackbone", "DeiTImageClassifier",
        "classification",
        "DeiT (Transformers DeiTForImageClassification vs KerasHub DeiTImageClassifier) on pattern images",
        sizes=VISION_SIZES,
        shapes_of={"base": "DeiT-B/16", "large": "DeiT-L/16 shape"},
        inputs="images",
        extra_tokens=2,
    ),
    "dinov2": HubArchitecture(
        # KerasHub has no DINOv2 classifier: the Keras side is its backbone with Transformers' head written out
        # (workloads.hub.keras_model: the class token and the mean of the patch tokens, then one dense layer).
        "dinov2", "Dinov2Config", "Dinov2ForImageClassification", "DINOV2Backbone", "", "classification",
        "DINOv2 (Transformers Dinov2ForImageClassification vs KerasHub DINOV2Backbone + the same head) on "
        "pattern images",
        sizes=DINOV2_SIZES,
        shapes_of={"base": "DINOv2-B/14", "large": "DINOv2-L/14"},
        inputs="images",
    ),
    "swin": HubArchitecture(
        "swin", "SwinConfig", "SwinForImageClassification", "SwinTransformerBackbone",
        "SwinTransformerImageClassifier", "classification",
        "Swin (Transformers SwinForImageClassification vs KerasHub SwinTransformerImageClassifier) on pattern images",
        sizes=SWIN_SIZES,
        shapes_of={"base": "Swin-T", "large": "Swin-B"},
        inputs="images",
    ),
}


def class_count(config: dict) -> int:
    """A classifier checkpoint's classes: Transformers' config.json records them as ``id2label``."""
    return config.get("num_labels") or len(config.get("id2label") or {}) or 2


def architecture_for(config: dict) -> HubArchitecture | None:
    """The architecture that trains a checkpoint with this config.json, or None."""
    for arch in ARCHITECTURES.values():
        if arch.model_type == config.get("model_type") and arch.torch_class in config.get("architectures", []):
            return arch
    return None
