"""The runners seen from outside: their processes' CPU and memory, the GPUs (NVML), the hypervisor's steal, and
GPU peaks for MFU."""
