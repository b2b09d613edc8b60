"""Two machine operations numba does not offer, as LLVM intrinsics for the lane kernels.

* :func:`prefetch` asks for the cache line of an array element ahead of its use
  (``llvm.prefetch``: ``prefetcht0`` on x86, ``prfm`` on ARM).  The batched
  product prefetches the next tile's operands while it multiplies the current
  one, so their transposition reads from cache rather than memory.
* :func:`transpose4` moves a 4 × 4 block of float64 with four vector loads, eight
  shuffles and four vector stores.  The same copy written element by element
  stays scalar (LLVM's SLP vectoriser does not find the transposition): sixteen
  loads and sixteen stores, with the row pointers spilled to the stack.

Both are plain LLVM IR: they compile on every target numba supports and are
cached with the kernels that use them.

>>> import numpy as np
>>> from numba import njit
>>> @njit
... def t4(x, y):
...     transpose4(x.reshape(-1), 0, 4, y.reshape(-1), 0, 4)
>>> x = np.arange(16.0).reshape(4, 4); y = np.empty_like(x); t4(x, y)
>>> bool((y == x.T).all())
True
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: ``llvm.prefetch``'s locality: 0 is ``prefetchnta`` on x86.  On the Zen 3 host
#: 0 to 3 measured alike (within 2 %); 0 keeps the lines from pushing the tiles
#: being multiplied out of level 2 on processors that honour it.
PREFETCH_LOCALITY = 0
_V4 = ir.VectorType(ir.DoubleType(), 4)
_I32 = ir.IntType(32)


def _mask(*lanes):
    return ir.Constant(ir.VectorType(_I32, 4), list(lanes))


# (r0, r1) -> (r0[0], r1[0], r0[2], r1[2]) and (r0[1], r1[1], r0[3], r1[3]); then
# the low and the high halves of two such vectors: vunpck{l,h}pd and vperm2f128 on AVX
_EVEN, _ODD = _mask(0, 4, 2, 6), _mask(1, 5, 3, 7)
_LOW, _HIGH = _mask(0, 1, 4, 5), _mask(2, 3, 6, 7)


def _flat_float64(ty):
    # contiguous: the element pointers below step the data pointer, not the strides
    return (
        isinstance(ty, types.Array)
        and ty.ndim == 1
        and ty.dtype == types.float64
        and ty.layout == "C"
    )


def _element(context, builder, aryty, ary, index, indexty):
    """Pointer to ``ary[index]`` of a 1-d array (no bounds check: the caller's loop keeps it in)."""
    data = context.make_array(aryty)(context, builder, ary).data
    return builder.gep(data, [context.cast(builder, index, indexty, types.intp)])


@intrinsic
def prefetch(typingctx, arr, index):
    """Start fetching the cache line holding ``arr[index]`` (1-d contiguous float64).

    A hint: it never faults (an address past the end is ignored by the
    processor) and changes no value.
    """
    if not (_flat_float64(arr) and isinstance(index, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, _I32, _I32, _I32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read (0), locality PREFETCH_LOCALITY, data cache (1)
        builder.call(fn, [ptr, _I32(0), _I32(PREFETCH_LOCALITY), _I32(1)])
        return context.get_dummy_value()

    return types.void(arr, index), codegen


@intrinsic
def transpose4(typingctx, src, s0, ss, dst, d0, ds):
    """``dst[d0 + j·ds + i] = src[s0 + i·ss + j]`` for ``i, j < 4``; 1-d contiguous float64.

    Rows of four at offsets ``s0, s0 + ss, ...`` of ``src`` become columns at
    ``d0, d0 + ds, ...`` of ``dst``; unaligned addresses are fine.  No bounds
    check: all sixteen elements must lie inside both arrays.
    """
    ints = (s0, ss, d0, ds)
    if not (_flat_float64(src) and _flat_float64(dst)) or not all(
        isinstance(t, types.Integer) for t in ints
    ):
        return None

    def codegen(context, builder, sig, args):
        src_ty, s0_ty, ss_ty, dst_ty, d0_ty, ds_ty = sig.args
        vec = _V4.as_pointer()

        def offsets(start, start_ty, step, step_ty):
            start = context.cast(builder, start, start_ty, types.intp)
            step = context.cast(builder, step, step_ty, types.intp)
            return [
                builder.add(start, builder.mul(step, ir.Constant(start.type, i))) for i in range(4)
            ]

        rows = [
            builder.load(
                builder.bitcast(_element(context, builder, src_ty, args[0], o, types.intp), vec),
                align=8,
            )
            for o in offsets(args[1], s0_ty, args[2], ss_ty)
        ]
        even = [builder.shuffle_vector(rows[i], rows[i + 1], _EVEN) for i in (0, 2)]
        odd = [builder.shuffle_vector(rows[i], rows[i + 1], _ODD) for i in (0, 2)]
        cols = [
            builder.shuffle_vector(even[0], even[1], _LOW),
            builder.shuffle_vector(odd[0], odd[1], _LOW),
            builder.shuffle_vector(even[0], even[1], _HIGH),
            builder.shuffle_vector(odd[0], odd[1], _HIGH),
        ]
        for col, o in zip(cols, offsets(args[4], d0_ty, args[5], ds_ty), strict=True):
            ptr = _element(context, builder, dst_ty, args[3], o, types.intp)
            builder.store(col, builder.bitcast(ptr, vec), align=8)
        return context.get_dummy_value()

    return types.void(src, s0, ss, dst, d0, ds), codegen
