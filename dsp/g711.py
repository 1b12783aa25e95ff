"""ITU-T G.711 µ-law and A-law companding as lookup tables, bit-exact with the G.191 reference g711.c."""

import numpy as np
import numpy.typing as npt


def _bit_length(v: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
    # frexp gives v = m * 2**e with m in [0.5, 1): e is the bit length for v > 0, and 0 for v == 0.
    return np.frexp(v.astype(np.float64))[1].astype(np.int32)


def _ulaw_encode_rule(x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    # G.191 ulaw_compress: 14-bit magnitude by ones' complement ((~x) >> 2 for x < 0), bias 33,
    # clamp to 0x1FFF, segment from the position of the leading one above bit 5, all bits inverted.
    x = x.astype(np.int32)
    absno = np.minimum((np.where(x < 0, ~x, x) >> 2) + 33, 0x1FFF)
    segno = 1 + _bit_length(absno >> 6)
    code = ((8 - segno) << 4) | (15 - ((absno >> segno) & 0x0F))
    return (code | np.where(x >= 0, 0x80, 0)).astype(np.uint8)


def _ulaw_decode_rule(code: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    # G.191 ulaw_expand: 14-bit left-justified reconstruction at mid-step, bias 4*33 removed.
    c = code.astype(np.int32)
    inv = ~c
    exponent = (inv >> 4) & 0x07
    mantissa = inv & 0x0F
    step = 4 << (exponent + 1)
    mag = (0x80 << exponent) + step * mantissa + step // 2 - 4 * 33
    return np.where(c < 0x80, -mag, mag).astype(np.int16)


def _alaw_encode_rule(x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    # G.191 alaw_compress: 12-bit magnitude by ones' complement ((~x) >> 4 for x < 0); segment 0
    # linear below 16, else exponent from the leading one; sign bit 1 = positive; even bits toggled.
    x = x.astype(np.int32)
    ix = np.where(x < 0, ~x, x) >> 4
    iexp = np.maximum(_bit_length(ix) - 4, 0)
    code = np.where(iexp == 0, ix, (iexp << 4) + (ix >> np.maximum(iexp - 1, 0)) - 16)
    return ((code | np.where(x >= 0, 0x80, 0)) ^ 0x55).astype(np.uint8)


def _alaw_decode_rule(code: npt.NDArray[np.uint8]) -> npt.NDArray[np.int16]:
    # G.191 alaw_expand: mid-step reconstruction (+8), shifted by exponent - 1 above segment 1.
    c = code.astype(np.int32)
    ix = (c ^ 0x55) & 0x7F
    iexp = ix >> 4
    mant = (ix & 0x0F) + np.where(iexp > 0, 16, 0)
    mag = ((mant << 4) + 8) << np.maximum(iexp - 1, 0)
    return np.where(c > 127, mag, -mag).astype(np.int16)


# Encode tables are indexed by the int16 bit pattern read as uint16; decode tables by the code.
_ALL_INT16 = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16)
_ALL_CODES = np.arange(256, dtype=np.uint8)
_ULAW_ENC = _ulaw_encode_rule(_ALL_INT16)
_ALAW_ENC = _alaw_encode_rule(_ALL_INT16)
_ULAW_DEC = _ulaw_decode_rule(_ALL_CODES)
_ALAW_DEC = _alaw_decode_rule(_ALL_CODES)
for _t in (_ULAW_ENC, _ALAW_ENC, _ULAW_DEC, _ALAW_DEC):
    _t.flags.writeable = False


def _checked(x: npt.ArrayLike, dtype: type[np.generic], name: str) -> npt.NDArray[np.generic]:
    x = np.asarray(x)
    if x.dtype != dtype:
        raise ValueError(f"{name}: expected an array of dtype {np.dtype(dtype).name}, got {x.dtype}")
    return x


def ulaw_encode(x: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """Linear int16 samples -> G.711 µ-law codes (uint8), same shape."""
    return _ULAW_ENC[_checked(x, np.int16, "ulaw_encode").view(np.uint16)]


def ulaw_decode(codes: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """G.711 µ-law codes (uint8) -> linear int16 samples, same shape."""
    return _ULAW_DEC[_checked(codes, np.uint8, "ulaw_decode")]


def alaw_encode(x: npt.ArrayLike) -> npt.NDArray[np.uint8]:
    """Linear int16 samples -> G.711 A-law codes (uint8), same shape."""
    return _ALAW_ENC[_checked(x, np.int16, "alaw_encode").view(np.uint16)]


def alaw_decode(codes: npt.ArrayLike) -> npt.NDArray[np.int16]:
    """G.711 A-law codes (uint8) -> linear int16 samples, same shape."""
    return _ALAW_DEC[_checked(codes, np.uint8, "alaw_decode")]
