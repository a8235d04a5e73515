"""Models in: every convolution of a torch, Keras or ONNX model as a case with the layer's real weights.

sources.py reads what the user names; torch_graph.py, keras_layers.py and onnx_graph.py find the
convolutions with each framework's own API; casewriter.py writes the cases and their `.npz`;
layer_report.py turns the run's rows back into one line per layer, command.py runs it all (docs/models.md).
"""
