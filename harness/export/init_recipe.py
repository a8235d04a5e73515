"""`port`'s initialiser recipe: code that gives a layer in the target framework another framework's defaults.

The numbers are the source's documented distribution for this very layer (adapters/defaults.py), which
the init pass measures: its family and scale for this layer's fans, written with the target's own
random functions. A recipe by scale rather than by rule (Keras' VarianceScaling(1/3, 'fan_in',
'uniform'), say) would be wrong wherever the two frameworks count fans differently: Keras counts a
DepthwiseConv2D's fan_in as in x k where torch counts k. tests/export/test_init_recipe.py builds the
target layers with these recipes and measures their draws against the source's distribution.
"""

from __future__ import annotations

from ..adapters.base import Adapter
from ..adapters.defaults import RULES, Rule
from ..adapters.errors import Unsupported
from ..adapters.keras import depthwise
from ..adapters.registry import get_adapter
from ..model.distributions import TRUNCATED_STD, Distribution
from ..model.schema import Conv

DRAWS = {  # the target's own call drawing each family; {lo} {hi}: the uniform's bounds, {s}: a normal's deviation,
    # {s0}: a truncated normal's untruncated deviation (every framework cuts at two of those), {v}: a constant
    "torch": {"uniform": "torch.nn.init.uniform_(module.{name}, {lo}, {hi})",
              "normal": "torch.nn.init.normal_(module.{name}, std={s})",
              "truncated_normal": "torch.nn.init.trunc_normal_(module.{name}, std={s0}, a={lo0}, b={hi0})",
              "constant": "torch.nn.init.constant_(module.{name}, {v})"},
    "keras": {"uniform": "keras.random.uniform(shape, {lo}, {hi}, dtype=dtype)",
              "normal": "keras.random.normal(shape, stddev={s}, dtype=dtype)",
              "truncated_normal": "keras.random.truncated_normal(shape, stddev={s0}, dtype=dtype)",
              "constant": "keras.ops.full(shape, {v}, dtype=dtype)"},
    "jax": {"uniform": "jax.random.uniform(key, shape, dtype, {lo}, {hi})",
            "normal": "jax.random.normal(key, shape, dtype) * {s}",
            "truncated_normal": "jax.random.truncated_normal(key, -2, 2, shape, dtype) * {s0}",
            "constant": "jnp.full(shape, {v}, dtype)"},
}


def drawn(api: str, d: Distribution, name: str = "") -> str:
    """The call in `api` (torch, keras, jax) that draws `d`; `name` the torch module's parameter."""
    s0 = d.scale / TRUNCATED_STD
    return DRAWS[api][d.family].format(lo=repr(-d.scale), hi=repr(d.scale), s=repr(d.scale), s0=repr(s0),
                                       lo0=repr(-2 * s0), hi0=repr(2 * s0), v=repr(d.scale), name=name)


EQUINOX = '''

def initialise(layer, key):
    """Equinox layers take no initialiser arguments: the weight and bias replaced by draws of the above."""
    kernel_key, bias_key = jax.random.split(key)
    layer = eqx.tree_at(lambda m: m.weight, layer, kernel_init(kernel_key, layer.weight.shape, layer.weight.dtype))
    if layer.bias is not None:
        layer = eqx.tree_at(lambda m: m.bias, layer, bias_init(bias_key, layer.bias.shape, layer.bias.dtype))
    return layer
'''


def recipe(conv: Conv, target: Adapter, source: str = "torch") -> str:
    """Code for the end of the target's program: `source`'s defaults for this layer; '' where the target holds
    no parameters of its own, a comment where its defaults already are the source's; Unsupported where the
    source framework has no such layer."""
    if target.initialiser_rule is None or conv.op == "separable":
        return ""
    try:
        get_adapter(source).plan(conv)  # the source framework has no such layer to take defaults from
    except Unsupported as exc:
        raise Unsupported(f"--init-from {source}: {exc}") from None
    wanted, own = RULES[source](conv), RULES[target.initialiser_rule](conv)
    parts: list[tuple[str, Rule]] = [(n, r) for n, r in zip(("kernel", "bias"), wanted) if r is not None]
    if all(mine is not None and mine.distribution == r.distribution for (_, r), mine in zip(parts, own)):
        return f"\n\n# {target.name}'s default initialisers for this layer are {source}'s already.\n"
    comment = (f"# {source}'s documented default initialisers for this layer (the rules the init pass measures), "
               f"in {target.name}")
    rule_name = target.initialiser_rule
    if rule_name == "torch":
        body = [f"{comment}:", "def initialise(module):",
                f'    """{source}\'s defaults: ' + "; ".join(f"{n} {r.text()}" for n, r in parts) + '."""',
                "    with torch.no_grad():",
                *(f"        {drawn('torch', r.distribution, 'weight' if n == 'kernel' else 'bias')}" for n, r in parts)]
        return "\n\n" + "\n".join(body) + "\n"
    keras = rule_name == "keras"
    names = {n: (f"{n}_initializer" if keras else f"{n}_init") for n, _ in parts}
    if keras and depthwise(conv):  # the layer Keras users write for it is DepthwiseConv1D/2D
        names["kernel"] = "depthwise_initializer"
    args = ", ".join(f"{v}={v}" for v in names.values())
    usage = {"keras": f"pass {args} to the layer", "flax": f"pass {args} to the nnx layer",
             "equinox": "call layer = initialise(layer, key) on each layer built"}[rule_name]
    blocks = [f"{comment}:\n# {usage}"]
    for name, rule in parts:
        signature = "shape, dtype=None" if keras else "key, shape, dtype=jnp.float32"
        blocks.append("\n".join([
            f"def {names[name]}({signature}):", f'    """{rule.text()}."""',
            f"    return {drawn('keras' if keras else 'jax', rule.distribution)}"]))
    text = blocks[0] + "\n" + "\n\n\n".join(blocks[1:])
    return "\n\n" + text + "\n" + (EQUINOX if rule_name == "equinox" else "")
