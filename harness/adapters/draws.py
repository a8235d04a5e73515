"""Program text for the init pass: build a case's layer with the framework's default initialisers, many times.

Each defines `initial_parameters(kernels, biases, seed)`, appended to the adapter's program (its imports,
DTYPE, DEVICE, its layer's constructor): the values of `kernels` kernels and `biases` biases, flattened, as
float64 (the bias None without one). The draws are the framework's own: torch builds as many modules as
the larger count (each runs reset_parameters); Keras builds the layer once and then draws again from
copies of the layer's own initialisers (`from_config`, each with its own seed: one initialiser object
called twice repeats its values); flax and Equinox build the layers from one key each, vmapped and jitted
as their users build ensembles, with JAX's 'rbg' keys (XLA compiles their bits in a quarter of
threefry's time; the initialisers' transforms of the bits, where the distributions are decided, are the
frameworks' own).
"""

from __future__ import annotations

TORCH = '''

def initial_parameters(kernels, biases, seed):
    """Modules built with torch's defaults (each runs reset_parameters), from `seed`: their kernels and biases."""
    torch.manual_seed(seed)
    weights, offsets = [], []
    for _ in range(max(kernels, biases)):
        {construct}
        weights.append(layer.weight.detach().double().cpu().numpy().ravel())
        if layer.bias is not None:
            offsets.append(layer.bias.detach().double().cpu().numpy())
    return np.concatenate(weights[:kernels]), np.concatenate(offsets[:biases]) if offsets else None
'''

KERAS = '''

def initial_parameters(kernels, biases, seed):
    """The layer built with Keras' defaults, its kernel and bias drawn again from copies of its own initialisers
    (one initialiser object called twice gives the same values)."""
    with keras.device(DEVICE):
        fresh = {layer}
        fresh.build({shape})
        weights = draw(fresh.kernel, fresh.{kernel_initialiser}, kernels, seed)
        offsets = None if fresh.bias is None else draw(fresh.bias, fresh.bias_initializer, biases, seed + kernels)
    return weights, offsets


def draw(variable, initialiser, count, seed):
    """`count` draws from copies of the layer's own initialiser, each seeded (seed, seed + 1, ...), flattened; one
    that takes no seed (zeros, a constant) gives the same values every call: drawn once, repeated."""
    config = initialiser.get_config()
    if "seed" not in config:
        return np.tile(np.asarray(array(initialiser(variable.shape, variable.dtype)), np.float64).ravel(), count)
    copies = [type(initialiser).from_config({**config, "seed": seed + i}) for i in range(count)]
    return np.concatenate([np.asarray(array(copy(variable.shape, variable.dtype)), np.float64).ravel()
                           for copy in copies])
'''

JAX_LAYERS = '''

def initial_parameters(kernels, biases, seed):
    """Layers built by `build` with the framework's default initialisers, one key each (vmapped): the kernels
    of the first `kernels`, the biases of the first `biases`."""
    def parameters(key):
        fresh = build({keyed})
        return {kernel}, {bias}

    with scope():
        weights, offsets = jax.jit(jax.vmap(parameters))(jax.random.split(jax.random.key(seed, impl='rbg'), max(kernels, biases)))
        return (np.asarray(weights[:kernels], np.float64).ravel(),
                None if offsets is None else np.asarray(offsets[:biases], np.float64).ravel())
'''


def torch_lines(construct: str) -> str:
    """The module's constructor line (`layer = torch.nn.Conv2d(...)`), run once per module drawn."""
    return TORCH.replace("{construct}", construct)


def keras_lines(layer: str, shape: tuple[int, ...], kernel_initialiser: str) -> str:
    return KERAS.replace("{layer}", layer).replace("{shape}", str(shape)).replace(
        "{kernel_initialiser}", kernel_initialiser)


def jax_layer_lines(keyed: str, kernel: str, bias: str) -> str:
    """For a program whose `build(...)` makes the layer: `keyed` its argument from `key`, `kernel` and
    `bias` the expressions of the fresh layer's parameters."""
    return JAX_LAYERS.replace("{keyed}", keyed).replace("{kernel}", kernel).replace("{bias}", bias)
