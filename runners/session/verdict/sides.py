"""The two sides of the user's question: Keras runners and native PyTorch runners, by spec name."""

KERAS_PREFIX = "keras/"
PYTORCH_RUNNERS = ("torch", "torch/compile")  # native PyTorch, eager and compiled


def is_keras(runner: str) -> bool:
    return runner.startswith(KERAS_PREFIX)


def is_pytorch(runner: str) -> bool:
    return runner in PYTORCH_RUNNERS
