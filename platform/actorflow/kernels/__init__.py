"""Kernels. Generic kernels are written once against `xp` (NumPy or CuPy) next to their op's
registration in `actorflow.ops.*`; this package holds only device-specific kernels that a
benchmark showed to pay, one module per device (`numpy_kernels` for the CPU).

The primitive vocabulary a device must implement is the array namespace itself: elementwise
ufuncs, reductions, `matmul`, indexing/reshaping, and a random generator. Composite ops
(softmax, losses, layers) are built from primitive ops and need no kernels of their own.
"""
