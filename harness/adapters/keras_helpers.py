"""The fixed helpers of every Keras program: tensors in and out of the case layout, the call, the parameter
count (keras.py writes the layer, its weights' layouts and the gradients around them; a route keeps all
but `numpy` and `run`)."""

HELPERS = '''

def zeros(shape, dtype=None):
    """The layer starts from zeros (no random initialiser to run): the case's weights are assigned first."""
    return ON_DEVICE(np.zeros(shape, "float32" if dtype is None or "bfloat16" in str(dtype) else str(dtype)))


def tensor(a):
    """NumPy N C spatial... -> a backend tensor in the case layout and dtype."""
    return TO_TENSOR(INTO_LAYOUT(a))


def array(y):
    """A backend tensor as NumPy (bfloat16 as float32, which holds it exactly)."""
    bf16 = keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    return keras.ops.convert_to_numpy(keras.ops.cast(y, "float32") if bf16 else y)
'''

NUMPY_RUN = '''

def numpy(y):
    return OUT_OF_LAYOUT(array(y))


def run(x, w, b):
    with keras.device(DEVICE):
        assign(w, b)
        return forward(tensor(x))
'''

COUNT = '''

def parameter_count(x, w, b):
    return layer.count_params()
'''
