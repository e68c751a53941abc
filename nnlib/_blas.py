r"""The one matrix product NumPy cannot write in place: :math:`C \leftarrow C + \alpha\, A B`.

Plain SGD updates a dense layer's weights with the product of its deltas and its inputs,

.. math::

    \mathbb A \mapsto \mathbb A - \eta\, \boldsymbol\delta^{\top} \mathbf X ,

and BLAS's ``gemm`` computes exactly that, :math:`C \leftarrow \alpha A B + \beta C` with
:math:`\alpha = -\eta,\ \beta = 1`, in one pass over :math:`\mathbb A`. NumPy's ``@``
always starts from :math:`\beta = 0`: it writes the gradient to a new array, and the update
then reads that array and the weights and writes the weights again (on the large benchmark
network, 784-256-256-10 at batch 256, 45 us of the first layer's 550 in float32, 85 of
1,090 in float64).

:func:`add_product` calls ``cblas_?gemm`` of the OpenBLAS that NumPy's own wheels bring
and have already loaded (``numpy.libs/libscipy_openblas*``), through :mod:`ctypes`: the same
library and the same thread pool as every ``@`` in the process. (A second BLAS, such as
SciPy's, would bring a second pool of threads that spin on the cores the first one needs.)
Where that library is not found (NumPy built against MKL, Accelerate or a system BLAS, or a
platform without ``RTLD_NOLOAD``), and for a ``C`` of fewer than 16,384 elements,
:func:`add_product` computes ``C += alpha * (A @ B)`` with NumPy: the same numbers up to
rounding in the last bit, one pass more.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

__all__ = ["add_product", "numpy_gemm"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112   # CBLAS enum values
# below this many elements of C the NumPy path is as fast: the call through ctypes costs
# about 3.5 us, the update pass that it saves on a 128 x 128 C about as much
_MIN_SIZE = 1 << 14
# larger dimensions go through NumPy: they would not fit the 32-bit integers of some builds
_MAX_DIM = np.iinfo(np.int32).max


def _numpy_openblas():
    """The ``cblas_sgemm`` and ``cblas_dgemm`` of NumPy's own OpenBLAS, keyed by dtype, or {}.

    Only a library that the process has already loaded is used (``RTLD_NOLOAD``): the one
    NumPy's extension modules link to, found next to NumPy as its wheels install it. The
    scipy-openblas builds name their symbols ``scipy_cblas_sgemm64_`` (64-bit integers,
    NumPy's wheels since 2.0) or ``scipy_cblas_sgemm`` (32-bit integers).
    """
    nolo = getattr(os, "RTLD_NOLOAD", None)
    if nolo is None:   # pragma: no cover - Windows
        return {}
    here = os.path.dirname(np.__file__)
    paths = sorted(glob.glob(os.path.join(here, os.pardir, "numpy.libs", "libscipy_openblas*.so*"))
                   + glob.glob(os.path.join(here, ".dylibs", "libscipy_openblas*.dylib")))
    for path in paths:
        try:
            lib = ctypes.CDLL(path, mode=nolo | os.RTLD_LOCAL)
        except OSError:
            continue   # on disk but not loaded: not the library NumPy uses
        for suffix, int_t in (("64_", ctypes.c_int64), ("", ctypes.c_int)):
            try:
                fns = {np.dtype(np.float32): getattr(lib, f"scipy_cblas_sgemm{suffix}"),
                       np.dtype(np.float64): getattr(lib, f"scipy_cblas_dgemm{suffix}")}
            except AttributeError:
                continue
            for dtype, fn in fns.items():
                scalar = ctypes.c_float if dtype == np.float32 else ctypes.c_double
                fn.restype = None
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, int_t, int_t, int_t,
                               scalar, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t,
                               scalar, ctypes.c_void_p, int_t]
            if _agrees(fns):
                return fns
    return {}


def _agrees(fns) -> bool:
    """Whether the functions found compute what NumPy does, on a small product of each layout."""
    rng = np.random.default_rng(0)
    for dtype, fn in fns.items():
        A = rng.standard_normal((3, 5)).astype(dtype)
        B = rng.standard_normal((5, 4)).astype(dtype)
        for a, b in ((A, B), (np.asfortranarray(A), np.asfortranarray(B))):
            C = rng.standard_normal((3, 4)).astype(dtype)
            want = C + 0.5 * (A @ B)
            fn(*_arguments(C, a, b, 0.5))
            if not np.allclose(C, want, rtol=1e-5, atol=1e-5):   # pragma: no cover
                return False
    return True


def _layout(M):
    """``(transpose flag, leading dimension)`` of a 2-D operand in row-major BLAS, or None."""
    if M.flags.c_contiguous:
        return _NO_TRANS, max(M.shape[1], 1)
    if M.flags.f_contiguous:
        return _TRANS, max(M.shape[0], 1)
    return None


def _arguments(C, A, B, alpha) -> tuple:
    """The arguments of ``cblas_?gemm`` for ``C += alpha * A @ B`` (operands already checked)."""
    (ta, lda), (tb, ldb) = _layout(A), _layout(B)
    m, k = A.shape
    n = B.shape[1]
    return (_ROW_MAJOR, ta, tb, m, n, k, alpha, A.ctypes.data, lda, B.ctypes.data, ldb,
            1.0, C.ctypes.data, max(n, 1))


_GEMM = _numpy_openblas()


def numpy_gemm() -> bool:
    """Whether :func:`add_product` found NumPy's OpenBLAS (otherwise it uses two NumPy passes)."""
    return bool(_GEMM)


def add_product(C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> None:
    r"""In place, :math:`C \leftarrow C + \alpha\, A B`.

    Parameters
    ----------
    C : ndarray, shape (m, n)
        Updated in place.
    A : ndarray, shape (m, k)
    B : ndarray, shape (k, n)
    alpha : float

    One ``gemm`` call with :math:`\beta = 1` when ``C`` is C-contiguous, aligned and
    writeable, ``A`` and ``B`` are C- or F-contiguous (a transposed view is fine), all three
    have the same dtype (float32 or float64, native byte order), no operand overlaps ``C``,
    and ``C`` has at least 16,384 elements (below that the call costs what it saves);
    otherwise ``C += alpha * (A @ B)`` in NumPy.
    """
    if A.ndim != 2 or B.ndim != 2 or C.ndim != 2 or A.shape[1] != B.shape[0] \
            or C.shape != (A.shape[0], B.shape[1]):
        raise ValueError(f"add_product: C {C.shape} += A {A.shape} @ B {B.shape} does not fit")
    fn = _GEMM.get(C.dtype)
    if (fn is None or A.dtype != C.dtype or B.dtype != C.dtype
            or C.size < _MIN_SIZE or max(A.shape + B.shape) > _MAX_DIM
            or not (C.flags.c_contiguous and C.flags.aligned and C.flags.writeable)
            or not (A.flags.aligned and B.flags.aligned)
            or _layout(A) is None or _layout(B) is None
            or np.may_share_memory(C, A) or np.may_share_memory(C, B)):
        C += alpha * (A @ B)
        return
    fn(*_arguments(C, A, B, alpha))
