"""Linear algebra: matrix products, tensor contraction, norms and traces.

Registers: MatMul, BatchMatMul, Einsum. Also defines `tensordot`, `norm` and `trace`
(compositions of matmul, reshapes, transposes and reductions).
"""
from __future__ import annotations

import string

import numpy as np

from ..framework.graph import Tensor, constant_value, convert_to_tensor, name_scope
from ..framework.registry import register_op
from ._common import binary_args, broadcast_shapes, out1, static_axis
from .math import multiply, pow, sum_to_shape_of
from .reduction import reduce_max, reduce_sum
from .unary import abs, sqrt

__all__ = ["matmul", "tensordot", "norm", "trace"]


# -- MatMul --------------------------------------------------------------------------------
def _matmul_infer(op):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if a.dtype != b.dtype:
        raise TypeError(f"MatMul: a is {a.dtype.name} but b is {b.dtype.name}")
    for t in (a, b):
        if t._shape is not None and len(t._shape) != 2:
            raise ValueError(f"Shape must be rank 2 but is rank {len(t._shape)}")
    sa = a._shape or (None, None)
    sb = b._shape or (None, None)
    m, k1 = (sa[1], sa[0]) if ta else sa
    k2, n = (sb[1], sb[0]) if tb else sb
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"Dimensions must be equal, but are {k1} and {k2}")
    return [(a.dtype, (m, n))]


def _matmul_kernel(op, ctx):
    xp = ctx.xp
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return xp.matmul
    if ta and not tb:
        return lambda a, b: xp.matmul(a.T, b)
    if tb and not ta:
        return lambda a, b: xp.matmul(a, b.T)
    return lambda a, b: xp.matmul(a.T, b.T)


def _matmul_grad(op, grad):
    """Returns (grad · bᵀ, aᵀ · grad), with the op's transposes folded in."""
    a, b = op.inputs
    return _matmul_grads(a, b, grad, op.attrs["transpose_a"], op.attrs["transpose_b"])


def _matmul_grads(a, b, grad, ta: bool, tb: bool) -> list:
    """The gradients of op(a) · op(b) where op transposes when `ta` / `tb` is set."""
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [matmul(b, grad, transpose_a=True, transpose_b=True),
            matmul(grad, a, transpose_a=True, transpose_b=True)]


register_op("MatMul", infer=_matmul_infer, grad=_matmul_grad, kernel=_matmul_kernel)


# -- BatchMatMul: matrix products over leading (broadcast) batch dimensions ----------------
def _batch_matmul_infer(op):
    a, b = op.inputs
    if a.dtype != b.dtype:
        raise TypeError(f"BatchMatMul: x is {a.dtype.name} but y is {b.dtype.name}")
    for t in (a, b):
        if t._shape is not None and len(t._shape) < 2:
            raise ValueError(f"BatchMatMul: {t.name} must have rank >= 2, not {len(t._shape)}")
    if a._shape is None or b._shape is None:
        return [(a.dtype, None)]
    m, k1 = a._shape[-2:][::-1] if op.attrs["adj_x"] else a._shape[-2:]
    k2, n = b._shape[-2:][::-1] if op.attrs["adj_y"] else b._shape[-2:]
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"BatchMatMul: inner dimensions must be equal, but are {k1} and {k2}")
    return [(a.dtype, broadcast_shapes(a._shape[:-2], b._shape[:-2]) + (m, n))]


def _batch_matmul_kernel(op, ctx):
    xp = ctx.xp
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    if not adj_x and not adj_y:
        return xp.matmul
    if op.inputs[0].dtype.is_complex:
        def adj(t):
            return xp.conj(xp.swapaxes(t, -1, -2))
    else:
        def adj(t):
            return xp.swapaxes(t, -1, -2)
    if adj_x and adj_y:
        return lambda a, b: xp.matmul(adj(a), adj(b))
    if adj_x:
        return lambda a, b: xp.matmul(adj(a), b)
    return lambda a, b: xp.matmul(a, adj(b))


def _batch_matmul_grad(op, grad):
    """Returns (grad · yᵀ, xᵀ · grad) per batch, adjoints folded in, summed over broadcast
    batch dimensions."""
    x, y = op.inputs
    gx, gy = _matmul_grads(x, y, grad, op.attrs["adj_x"], op.attrs["adj_y"])
    return [sum_to_shape_of(gx, x), sum_to_shape_of(gy, y)]


register_op("BatchMatMul", infer=_batch_matmul_infer, grad=_batch_matmul_grad,
            kernel=_batch_matmul_kernel,
            doc="Matrix products over the last two dims; leading batch dims broadcast.")

def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False,
           adjoint_a: bool = False, adjoint_b: bool = False, a_is_sparse: bool = False,
           b_is_sparse: bool = False, name=None) -> Tensor:
    """Matrix product a · b of rank-2 tensors (rank > 2: batched, via BatchMatMul)."""
    a, b = binary_args(a, b, "MatMul")
    ta, tb = bool(transpose_a or adjoint_a), bool(transpose_b or adjoint_b)
    ra = len(a._shape) if a._shape is not None else 2
    rb = len(b._shape) if b._shape is not None else 2
    if ra > 2 or rb > 2:
        return out1("BatchMatMul", [a, b], {"adj_x": ta, "adj_y": tb}, name or "MatMul")
    return out1("MatMul", [a, b], {"transpose_a": ta, "transpose_b": tb}, name or "MatMul")


def tensordot(a, b, axes, name=None) -> Tensor:
    """Tensor contraction of `a` and `b` over `axes`: an int n (the last n axes of a with the
    first n of b) or a pair [axes_a, axes_b] of equal-length axis lists (or ints). The result
    has a's free axes followed by b's, computed as one matmul of transposed, reshaped inputs.

    Raises:
        ValueError: an input's rank is unknown, or the axes do not pair up.
    """
    a, b = binary_args(a, b, "tensordot")
    if a._shape is None or b._shape is None:
        raise ValueError("tensordot needs inputs of known rank")
    ra, rb = len(a._shape), len(b._shape)
    axes_a, axes_b = _tensordot_axes(axes, ra, rb)
    for i, j in zip(axes_a, axes_b):
        da, db = a._shape[i], b._shape[j]
        if da is not None and db is not None and da != db:
            raise ValueError(f"tensordot: axis {i} of a ({da}) and axis {j} of b ({db}) "
                             "must have equal sizes")
    free_a = [i for i in range(ra) if i not in axes_a]
    free_b = [i for i in range(rb) if i not in axes_b]
    with name_scope(name, "Tensordot", [a, b]):
        product = matmul(_as_matrix(a, free_a, axes_a), _as_matrix(b, axes_b, free_b))
        from .array import reshape
        out = reshape(product, _dims(a, free_a) + _dims(b, free_b))
    out.set_shape([a._shape[i] for i in free_a] + [b._shape[i] for i in free_b])
    return out


def _tensordot_axes(axes, ra: int, rb: int) -> tuple[list, list]:
    if isinstance(axes, Tensor):
        axes = constant_value(axes)
        if axes is None:
            raise ValueError("tensordot: axes must be known at graph construction")
        axes = axes.tolist()
    if isinstance(axes, (int, np.integer)):
        n = int(axes)
        if not 0 <= n <= min(ra, rb):
            raise ValueError(f"tensordot: axes={n} must be in [0, {min(ra, rb)}] for inputs "
                             f"of rank {ra} and {rb}")
        return list(range(ra - n, ra)), list(range(n))
    if len(axes) != 2:
        raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, not {axes}")
    pair = []
    for ax, rank in zip(axes, (ra, rb)):
        ax = [ax] if isinstance(ax, (int, np.integer)) else list(ax)
        pair.append([static_axis(int(i), rank) for i in ax])
    if len(pair[0]) != len(pair[1]):
        raise ValueError(f"tensordot: axes {pair[0]} and {pair[1]} differ in length")
    return pair[0], pair[1]


def _dims(t: Tensor, idx: list) -> list:
    """The sizes of `t`'s dims `idx`: ints where static, scalar tensors where not."""
    if all(t._shape[i] is not None for i in idx):
        return [t._shape[i] for i in idx]
    from .array import shape
    from .joining import unstack
    dynamic = unstack(shape(t), num=len(t._shape))
    return [t._shape[i] if t._shape[i] is not None else dynamic[i] for i in idx]


def _as_matrix(t: Tensor, rows: list, cols: list) -> Tensor:
    """`t` transposed to (rows, cols) order and reshaped to [prod(rows), prod(cols)]."""
    from .array import reshape
    perm = rows + cols
    if perm != list(range(len(perm))):
        from .array import transpose
        t2 = transpose(t, perm)
    else:
        t2 = t
    r, c = _dims(t, rows), _dims(t, cols)
    if all(isinstance(d, int) for d in r):
        return reshape(t2, [int(np.prod(r, dtype=np.int64)), -1])
    if all(isinstance(d, int) for d in c):
        return reshape(t2, [-1, int(np.prod(c, dtype=np.int64))])
    n_rows = r[0]
    for d in r[1:]:
        n_rows = multiply(n_rows, d)
    return reshape(t2, [n_rows, -1])


# -- norm, trace (compositions) ------------------------------------------------------------
def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None,  # noqa: A002
         keep_dims=None) -> Tensor:
    """The vector or matrix norm of `tensor` (TF 1.x `tf.norm`).

    `axis` None (all entries as one vector), an int (vectors) or a pair (matrices). `ord`:
    "euclidean" (2-norm of vectors, Frobenius of matrices), "fro" (matrices), 1, np.inf,
    or for vectors any p > 0.

    Raises:
        ValueError: an unsupported `ord` for the kind of norm, or a bad `axis`.
    """
    keep = bool(keepdims if keepdims is not None else keep_dims)
    axes = None if axis is None else ([axis] if isinstance(axis, (int, np.integer))
                                      else [int(a) for a in axis])
    if axes is not None and (len(axes) not in (1, 2) or len(set(axes)) != len(axes)):
        raise ValueError(f"norm: axis must be None, an int or a pair of distinct ints, got "
                         f"{axis!r}")
    is_matrix = axes is not None and len(axes) == 2
    vector_ord = ord in ("euclidean", 1, np.inf) or (
        not isinstance(ord, (str, bool)) and isinstance(ord, (int, float)) and ord > 0)
    if (is_matrix and ord not in ("euclidean", "fro", 1, np.inf)) or \
            (not is_matrix and not vector_ord):
        kind = "matrix" if is_matrix else "vector"
        raise ValueError(f"norm: ord={ord!r} is not supported for {kind} norms")
    with name_scope(name, "norm", [tensor]):
        x = convert_to_tensor(tensor, name="tensor")
        if ord in ("euclidean", "fro", 2):
            return sqrt(reduce_sum(x * x, axes, keepdims=keep))
        a = abs(x)
        if is_matrix:  # 1: largest column sum; inf: largest row sum
            summed = axes[0] if ord == 1 else axes[1]
            return reduce_max(reduce_sum(a, summed, keepdims=True), axes, keepdims=keep)
        if ord == 1:
            return reduce_sum(a, axes, keepdims=keep)
        if ord == np.inf:
            return reduce_max(a, axes, keepdims=keep)
        return pow(reduce_sum(pow(a, float(ord)), axes, keepdims=keep), 1.0 / ord)


def trace(x, name=None) -> Tensor:
    """The sum of the main diagonal of a square matrix (of each matrix of a batch)."""
    from .indexing import diag_part
    with name_scope(name, "Trace", [x]):
        return reduce_sum(diag_part(x), axis=-1)


# -- Einsum: xp.einsum over an explicit equation; gradients are einsums of the others ------
def _einsum_terms(equation: str) -> tuple[list, str]:
    """The input subscripts and the output subscript of an explicit equation."""
    lhs, out = equation.split("->")
    return lhs.split(","), out


def _einsum_infer(op):
    terms, out = _einsum_terms(op.attrs["equation"])
    dtype = op.inputs[0].dtype
    sizes: dict = {}
    for t, term in zip(op.inputs, terms):
        if t.dtype != dtype:
            raise TypeError(f"einsum: inputs must share a dtype, got {dtype.name} and "
                            f"{t.dtype.name} ({t.name})")
        if t._shape is None:
            continue
        if len(t._shape) != len(term):
            raise ValueError(f"einsum: subscripts {term!r} need a rank-{len(term)} input, "
                             f"{t.name} has shape {list(t._shape)}")
        for c, d in zip(term, t._shape):
            if d is not None and sizes.get(c) is not None and sizes[c] != d:
                raise ValueError(f"einsum: dimension {c!r} is {sizes[c]} in one input and "
                                 f"{d} in {t.name}")
            if d is not None:
                sizes[c] = d
            else:
                sizes.setdefault(c, None)
    return [(dtype, tuple(sizes.get(c) for c in out))]


def _einsum_kernel(op, ctx):
    xp, eq = ctx.xp, op.attrs["equation"]
    if len(op.inputs) == 1:  # may be a view of the input (aliases_input)
        def einsum1(x):
            return xp.asarray(xp.einsum(eq, x))
        return einsum1

    def einsum_(*xs):
        return xp.asarray(xp.einsum(eq, *xs, optimize=True))
    return einsum_


def _einsum_grad(op, grad):
    """d/d x_k of einsum(x_1..x_n) is einsum(grad, x_j for j != k) onto x_k's subscripts,
    broadcast over the subscripts that appear nowhere else (they were summed within x_k)."""
    from .array import broadcast_to, expand_dims, shape
    terms, out = _einsum_terms(op.attrs["equation"])
    grads = []
    for k, (x, term) in enumerate(zip(op.inputs, terms)):
        if len(set(term)) != len(term):
            raise ValueError(f"einsum gradient: repeated subscripts within one operand "
                             f"({term!r}) are not supported")
        others = [t for j, t in enumerate(terms) if j != k]
        seen = set(out).union(*others)
        kept = "".join(c for c in term if c in seen)
        g = einsum(f"{','.join([out] + others)}->{kept}",
                   grad, *[t for j, t in enumerate(op.inputs) if j != k])
        if kept != term:
            for i, c in enumerate(term):
                if c not in seen:
                    g = expand_dims(g, i)
            full = (list(x._shape) if x._shape is not None and None not in x._shape
                    else shape(x))
            g = broadcast_to(g, full)
        grads.append(g)
    return grads


register_op("Einsum", infer=_einsum_infer, grad=_einsum_grad, kernel=_einsum_kernel,
            aliases_input=True,
            doc="xp.einsum over an explicit equation (no ellipsis, one output subscript).")


def _explicit_equation(equation: str, ranks: list) -> str:
    """`equation` with '...' spelled out as letters and the output made explicit (NumPy's
    implicit mode: the ellipsis dims, then the subscripts used once, sorted).

    Raises:
        ValueError: a malformed equation, or an ellipsis on an input of unknown rank.
    """
    eq = equation.replace(" ", "")
    lhs, arrow, out = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} inputs, got "
                         f"{len(ranks)}")
    for term in terms + [out]:
        if term.count("...") > 1 or not set(term.replace("...", "")) <= set(string.ascii_letters):
            raise ValueError(f"einsum: invalid subscripts {term!r} in {equation!r}")
    free = [c for c in string.ascii_letters if c not in eq]
    widths = []
    for term, rank in zip(terms, ranks):
        if "..." in term:
            if rank is None:
                raise ValueError(f"einsum: {equation!r} needs the ranks of inputs with '...'")
            widths.append(rank - len(term) + 3)
        else:
            widths.append(0)
    ell = "".join(free[:max(widths)])
    terms = [t.replace("...", ell[len(ell) - w:]) for t, w in zip(terms, widths)]
    if arrow:
        out = out.replace("...", ell)
    else:
        joined = "".join(terms)
        out = ell + "".join(sorted(c for c in set(joined) if joined.count(c) == 1
                                   and c not in ell))
    if len(set(out)) != len(out) or not set(out) <= set("".join(terms)):
        raise ValueError(f"einsum: output subscripts of {equation!r} must be distinct letters "
                         "of the inputs")
    return f"{','.join(terms)}->{out}"


def einsum(equation: str, *inputs, **kwargs) -> Tensor:
    """Sums of products of `inputs` over the subscripts of `equation` (NumPy's einsum):
    e.g. 'ij,jk->ik' (matmul), 'bij,bjk->bik' (batched), 'ij->ji', 'ii->i', '...ij,...jk'.

    Raises:
        ValueError: a malformed equation, inputs of different dtypes or mismatched sizes.
    """
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"einsum: unexpected keyword arguments {sorted(kwargs)}")
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    xs = [convert_to_tensor(x) for x in inputs]
    if not xs:
        raise ValueError("einsum needs at least one input")
    eq = _explicit_equation(equation, [None if x._shape is None else len(x._shape)
                                       for x in xs])
    return out1("Einsum", xs, {"equation": eq}, name or "einsum")


__all__ += ["einsum"]
