"""Each tensor library's device facts and settings, one module a backend, imported only in a runner that uses it.

A backend is a class with the questions ``runners.child.devices`` asks (``on_gpu``, ``describe``,
``memory_reader``, ``cap_threads``, ``set_tf32``); adding one is a module here and an entry in ``BACKENDS``.
"""

BACKENDS = {
    "jax": "runners.child.backends.jax_backend:JaxBackend",
    "tensorflow": "runners.child.backends.tensorflow_backend:TensorFlowBackend",
    "torch": "runners.child.backends.torch_backend:TorchBackend",
    "openvino": "runners.child.backends.openvino_backend:OpenVinoBackend",
}
