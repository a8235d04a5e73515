"""Small models built in the tests (no downloads): every convolution kind, in each framework."""

from __future__ import annotations

from typing import Any


def torch_every() -> Any:
    """nn.Conv* modules of every kind beside F.conv* calls in forward, a reflect-padded conv, a shared one."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(6, 6, 3, padding="same", groups=6)  # depthwise
            self.kernel = nn.Parameter(torch.randn(4, 3, 3, 3))

        def forward(self, x: Any) -> Any:
            y = self.conv(x)
            return F.conv2d(y, self.kernel, stride=2, padding=1, groups=2)  # grouped, functional

    class Every(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stem = nn.Conv2d(3, 6, 3, stride=2, padding=1, bias=False)
            self.features = nn.Sequential(Block(), nn.ReLU())
            self.reflect = nn.Conv2d(4, 4, 3, padding=2, dilation=2, padding_mode="reflect")
            self.up = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)
            self.c3 = nn.Conv3d(2, 2, 2)
            self.t3 = nn.ConvTranspose3d(2, 1, 2, stride=2, groups=1)
            self.c1 = nn.Conv1d(3, 4, 3, padding=1)
            self.t1 = nn.ConvTranspose1d(4, 4, 4, stride=2, padding=1, groups=2)
            self.tap = nn.Parameter(torch.randn(2, 4, 1))

        def forward(self, x: Any) -> Any:
            y = self.reflect(self.features(self.stem(x)))
            a = self.up(y)
            v = self.t3(self.c3(a.unsqueeze(2).repeat(1, 1, 3, 1, 1)))
            line = self.t1(self.c1(x.mean(-1)))
            line = F.conv1d(F.pad(line, (2, 0)), self.tap)  # a causal pad folded into the call after it
            return a.sum() + v.sum() + line.sum()

    return Every()


TORCH_LAYERS = [  # (name, kind) in the order forward computes them
    ("stem", "nn.Conv2d"), ("features.0.conv", "nn.Conv2d"), ("features.0.conv2d", "F.conv2d"),
    ("reflect", "nn.Conv2d"), ("up", "nn.ConvTranspose2d"), ("c3", "nn.Conv3d"), ("t3", "nn.ConvTranspose3d"),
    ("c1", "nn.Conv1d"), ("t1", "nn.ConvTranspose1d"), ("conv1d", "F.conv1d")]


def keras_every() -> Any:
    """A functional Keras model with every convolution layer kind, both data formats."""
    import keras

    layers = keras.layers
    image, line, volume = keras.Input((10, 12, 3)), keras.Input((16, 4)), keras.Input((6, 6, 6, 2))
    x = layers.Conv2D(4, 3, strides=2, padding="same", name="c2")(image)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(x)
    x = layers.SeparableConv2D(5, 3, depth_multiplier=2, name="sep")(x)
    x = layers.Conv2DTranspose(3, 3, strides=2, padding="same", output_padding=1, name="t2")(x)
    x = layers.Conv2D(6, 3, groups=3, dilation_rate=2, name="grouped")(x)
    first = layers.Conv2D(2, 3, data_format="channels_first", name="cf")(layers.Permute((3, 1, 2))(image))
    a = layers.Conv1D(4, 3, padding="causal", name="causal")(line)
    a = layers.SeparableConv1D(4, 3, name="sep1")(a)
    a = layers.DepthwiseConv1D(3, name="dw1")(a)
    a = layers.Conv1DTranspose(2, 3, strides=2, name="t1")(a)
    v = layers.Conv3D(2, 2, name="c3")(volume)
    v = layers.Conv3DTranspose(2, 2, strides=2, use_bias=False, name="t3")(v)
    return keras.Model([image, line, volume], [x, first, a, v], name="every")


KERAS_LAYERS = {"c2": "Conv2D", "dw": "DepthwiseConv2D", "sep": "SeparableConv2D", "t2": "Conv2DTranspose",
                "grouped": "Conv2D", "cf": "Conv2D", "causal": "Conv1D", "sep1": "SeparableConv1D",
                "dw1": "DepthwiseConv1D", "t1": "Conv1DTranspose", "c3": "Conv3D", "t3": "Conv3DTranspose"}


def torch_twins() -> Any:
    """Two layers of one configuration (different weights) and a third that differs."""
    from torch import nn

    return nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 2, 1))


def not_a_model() -> Any:
    return "a string"


def onnx_file(model: Any, shape: tuple[int, ...], path: Any) -> Any:
    """The model exported as a user would today (torch.onnx.export, dynamo=True), its deprecation chatter muted."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.randn(*shape),), str(path), dynamo=True, verbose=False)
    return path
