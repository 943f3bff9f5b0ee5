import keras
from keras import layers, ops

from workloads.gpt import LN_EPSILON
from workloads.weights import keras_name


class TokenAndPositionEmbedding(layers.Layer):
    """Token embedding plus a learned position embedding (a layer, so its weights are the model's)."""

    def __init__(self, vocab, length, dim, **kwargs):
        super().__init__(**kwargs)
        self.tok_emb = layers.Embedding(vocab, dim, name="tok_emb")
        self.pos_emb = layers.Embedding(length, dim, name="pos_emb")

    def call(self, tokens):
        positions = ops.arange(ops.shape(tokens)[1])
        return self.tok_emb(tokens) + self.pos_emb(positions)[None, :, :]


class CausalSelfAttention(layers.Layer):
    def __init__(self, dim, heads, prefix, **kwargs):
        super().__init__(name=keras_name(prefix), **kwargs)
        self.heads = heads
        self.q, self.k, self.v, self.proj = (
            layers.Dense(dim, name=keras_name(f"{prefix}.{n}")) for n in ("q", "k", "v", "proj")
        )

    def _split(self, x):
        batch, length, dim = ops.shape(x)
        x = ops.reshape(x, (batch, length, self.heads, dim // self.heads))
        return ops.transpose(x, (0, 2, 1, 3))  # (batch, heads, length, head_dim)

    def call(self, x):
        batch, length, dim = ops.shape(x)
        q, k, v = self._split(self.q(x)), self._split(self.k(x)), self._split(self.v(x))
        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2))) / ops.sqrt(ops.cast(dim // self.heads, x.dtype))
        causal = ops.tril(ops.ones((length, length), dtype="bool"))
        scores = ops.where(causal, scores, ops.full_like(scores, float("-inf")))
        out = ops.matmul(ops.softmax(scores, axis=-1), v)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (batch, length, dim))
        return self.proj(out)


def build(settings, hyper):
    d = hyper["dim"]
    tokens = keras.Input(shape=(hyper["length"],), dtype="int32")
    x = TokenAndPositionEmbedding(hyper["vocab"], hyper["length"], d, name="embeddings")(tokens)
    for i in range(hyper["layers"]):
        block = f"blocks.{i}"
        h = layers.LayerNormalization(epsilon=LN_EPSILON, name=keras_name(f"{block}.ln1"))(x)
        x = x + CausalSelfAttention(d, hyper["heads"], f"{block}.attn")(h)
        h = layers.LayerNormalization(epsilon=LN_EPSILON, name=keras_name(f"{block}.ln2"))(x)
        h = layers.Dense(4 * d, name=keras_name(f"{block}.mlp.fc"))(h)
        h = keras.activations.gelu(h, approximate=False)
        x = x + layers.Dense(d, name=keras_name(f"{block}.mlp.proj"))(h)
    x = layers.LayerNormalization(epsilon=LN_EPSILON, name="ln_f")(x)
    logits = layers.Dense(hyper["vocab"], use_bias=False, name="head")(x)
    return keras.Model(tokens, logits, name="gpt")
