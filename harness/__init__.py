"""Compare 2-D convolution across PyTorch, Keras/TensorFlow and JAX against a float64 reference.

Importing this package imports no framework: they are loaded lazily by the adapters.
"""

__version__ = "0.1.0"
