"""The fixed parts of torch's separable programs: the depthwise and pointwise kernels as two modules'
weights or two functional calls' operands, and autograd through both (torch.py writes the rest)."""

SEPARABLE_GRADIENTS = '''

def gradients(x, w, b, g):
    """torch.autograd on the same call: dL/dx, dL/dw (depthwise), dL/dpw (pointwise), dL/db of L = sum(y * g)."""
    x = tensor(x).requires_grad_()
    (depthwise, pointwise), b = parameters(w, b, leaves=True)
    loss = (call(x, (depthwise, pointwise), b) * tensor(g)).sum()
    grads = torch.autograd.grad(loss, [x, depthwise, pointwise] + ([] if b is None else [b]))
    return {name: numpy(value) for name, value in zip(("dx", "dw", "dpw", "db"), grads)}
'''

SEPARABLE_MODULE_PARAMETERS = '''

def parameters(w, b, leaves=False):
    """The two modules' weights and the pointwise bias, set from w = (depthwise, pointwise) and b."""
    with torch.no_grad():
        layer[0].weight.copy_(tensor(w[0]))
        layer[1].weight.copy_(tensor(w[1]))
        if b is not None:
            layer[1].bias.copy_(tensor(b))
    return (layer[0].weight, layer[1].weight), layer[1].bias


def parameter_count(x, w, b):
    return sum(p.numel() for p in layer.parameters())
'''

SEPARABLE_FUNCTIONAL_PARAMETERS = '''

def parameters(w, b, leaves=False):
    """Fresh tensors for the depthwise and pointwise kernels and the bias (leaves of autograd when asked)."""
    kernels = tuple(tensor(k) for k in w)
    b = None if b is None else tensor(b)
    for leaf in (*kernels, *([] if b is None else [b])) if leaves else ():
        leaf.requires_grad_()
    return kernels, b


def parameter_count(x, w, b):
    return sum(k.size for k in w) + (0 if b is None else b.size)
'''
