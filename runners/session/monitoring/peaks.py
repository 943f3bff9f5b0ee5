"""Peak dense FLOP/s of common GPUs, for MFU (model FLOPs utilisation).

Figures are the vendors' datasheet numbers without structured sparsity, in
TFLOP/s. A device not listed (every CPU among them) gets no MFU: TFLOP/s alone.
"""

from __future__ import annotations

# Most specific names first: "A100" must not match "A10", nor "L40S" "L4".
PEAK_TFLOPS: list[tuple[str, dict[str, float]]] = [
    ("H100 PCIe", {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0, "fp16": 756.0}),
    ("H100", {"fp32": 66.9, "tf32": 494.7, "bf16": 989.4, "fp16": 989.4}),
    ("A100", {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0, "fp16": 312.0}),
    ("L40S", {"fp32": 91.6, "tf32": 183.0, "bf16": 362.0, "fp16": 362.0}),
    ("L4", {"fp32": 30.3, "tf32": 60.0, "bf16": 121.0, "fp16": 121.0}),
    ("A10", {"fp32": 31.2, "tf32": 62.5, "bf16": 125.0, "fp16": 125.0}),
    ("V100", {"fp32": 15.7, "fp16": 125.0}),
    ("T4", {"fp32": 8.1, "fp16": 65.0}),
    ("RTX 4090", {"fp32": 82.6, "bf16": 165.2, "fp16": 165.2}),
    ("RTX 3090", {"fp32": 35.6, "bf16": 71.0, "fp16": 71.0}),
]


def peak_flops(device: str, precision: str, tf32: str) -> float | None:
    """FLOP/s for a device description such as "cuda:0 NVIDIA A100-SXM4-40GB", or None."""
    key = "tf32" if precision == "fp32" and tf32 == "on" else precision
    for name, peaks in PEAK_TFLOPS:
        if name.lower() in device.lower():
            value = peaks.get(key)
            return value * 1e12 if value else None
    return None
