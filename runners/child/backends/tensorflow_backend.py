"""TensorFlow's device facts and settings."""

from __future__ import annotations

import tensorflow as tf

from runners.child.devices import DeviceMemory


class TensorFlowBackend:
    def on_gpu(self) -> bool:
        return bool(tf.config.list_logical_devices("GPU"))

    def describe(self) -> str:
        details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
        return f"gpu:0 {details.get('device_name', '')}".strip()

    def memory_reader(self):
        def read():
            info = tf.config.experimental.get_memory_info("GPU:0")
            return DeviceMemory(info["current"], info["peak"], None)

        return read

    def cap_threads(self, threads: int) -> None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)

    def set_tf32(self, enabled: bool) -> None:
        tf.config.experimental.enable_tensor_float_32_execution(enabled)
