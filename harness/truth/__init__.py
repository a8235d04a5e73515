"""What the right answer is: the float64 reference, its gradients, the rounding bounds, the deadline on them."""
