"""G.711 companding: exhaustive bit-exactness against the G.191 reference rules, round trips, input checks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

from dsp import g711
from dsp.levels import rms_dbm0


# Independent scalar models written straight from ITU-T G.191 STL src/g711/g711.c (v3.01), one sample
# at a time with the same loops as the C text, so the table builder is checked against other code.

def ref_ulaw_compress(x):
    absno = ((~x) >> 2) + 33 if x < 0 else (x >> 2) + 33
    absno = min(absno, 0x1FFF)
    i = absno >> 6
    segno = 1
    while i != 0:
        segno += 1
        i >>= 1
    high = 0x08 - segno
    low = 0x0F - ((absno >> segno) & 0x0F)
    code = (high << 4) | low
    return code | 0x80 if x >= 0 else code


def ref_ulaw_expand(code):
    sign = -1 if code < 0x80 else 1
    mantissa = ~code
    exponent = (mantissa >> 4) & 0x07
    segment = exponent + 1
    mantissa &= 0x0F
    step = 4 << segment
    return sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33)


def ref_alaw_compress(x):
    ix = (~x) >> 4 if x < 0 else x >> 4
    if ix > 15:
        iexp = 1
        while ix > 16 + 15:
            ix >>= 1
            iexp += 1
        ix -= 16
        ix += iexp << 4
    if x >= 0:
        ix |= 0x80
    return ix ^ 0x55


def ref_alaw_expand(code):
    ix = (code ^ 0x55) & 0x7F
    iexp = ix >> 4
    mant = ix & 0x0F
    if iexp > 0:
        mant += 16
    mant = (mant << 4) + 0x08
    if iexp > 1:
        mant <<= iexp - 1
    return mant if code > 127 else -mant


ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
ALL_CODES = np.arange(256, dtype=np.uint8)


@pytest.mark.parametrize("encode, ref", [(g711.ulaw_encode, ref_ulaw_compress),
                                         (g711.alaw_encode, ref_alaw_compress)])
def test_encode_bit_exact_with_g191_for_all_65536_inputs(encode, ref):
    expected = np.array([ref(int(x)) for x in ALL_INT16], dtype=np.uint8)
    np.testing.assert_array_equal(encode(ALL_INT16), expected)


@pytest.mark.parametrize("decode, ref", [(g711.ulaw_decode, ref_ulaw_expand),
                                         (g711.alaw_decode, ref_alaw_expand)])
def test_decode_bit_exact_with_g191_for_all_256_codes(decode, ref):
    expected = np.array([ref(int(c)) for c in ALL_CODES], dtype=np.int16)
    np.testing.assert_array_equal(decode(ALL_CODES), expected)


def test_ulaw_negative_near_zero_follows_g191_not_audioop():
    # docs/standards.md §7.2: G.191 maps -1..-4 to 0x7F (negative zero); audioop's Sun code gives 0x7E.
    np.testing.assert_array_equal(g711.ulaw_encode(np.array([-1, -2, -3, -4], np.int16)), [0x7F] * 4)
    assert g711.ulaw_encode(np.array([-5], np.int16))[0] == 0x7E


@pytest.mark.parametrize("codes, decode", [
    # G.711 tables 5 and 6: the digital milliwatt sequences (0 dBm0 at 1 kHz), docs/standards.md §0/§7.1.
    ([0x1E, 0x0B, 0x0B, 0x1E, 0x9E, 0x8B, 0x8B, 0x9E], g711.ulaw_decode),
    ([0x34, 0x21, 0x21, 0x34, 0xB4, 0xA1, 0xA1, 0xB4], g711.alaw_decode),
])
def test_digital_milliwatt_decodes_to_0_dbm0(codes, decode):
    assert rms_dbm0(decode(np.array(codes, np.uint8))) == pytest.approx(0.0, abs=0.1)


def test_extremes_and_idle_codes():
    # docs/standards.md §7.1: decoder range ±32124 (µ) / ±32256 (A); idle codes 0xFF (µ) and 0xD5 (A).
    assert g711.ulaw_decode(ALL_CODES).max() == 32124 and g711.ulaw_decode(ALL_CODES).min() == -32124
    assert g711.alaw_decode(ALL_CODES).max() == 32256 and g711.alaw_decode(ALL_CODES).min() == -32256
    assert g711.ulaw_encode(np.zeros(1, np.int16))[0] == 0xFF
    assert g711.alaw_encode(np.zeros(1, np.int16))[0] == 0xD5


def test_code_round_trip_all_codes():
    # Every A-law code is its own round trip; every µ-law code too except negative zero 0x7F -> 0xFF.
    np.testing.assert_array_equal(g711.alaw_encode(g711.alaw_decode(ALL_CODES)), ALL_CODES)
    expected = ALL_CODES.copy()
    expected[0x7F] = 0xFF
    np.testing.assert_array_equal(g711.ulaw_encode(g711.ulaw_decode(ALL_CODES)), expected)


int16_arrays = hnp.arrays(np.int16, hnp.array_shapes(min_dims=0, max_dims=3, max_side=6))


@given(int16_arrays)
def test_encode_decode_is_idempotent_and_keeps_shape(x):
    for enc, dec in ((g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)):
        y = dec(enc(x))
        assert y.shape == x.shape and y.dtype == np.int16
        np.testing.assert_array_equal(dec(enc(y)), y)


@given(int16_arrays)
def test_decoded_value_is_a_reconstruction_level_bracketing_the_input(x):
    # G.711 is a quantiser: the output is one of the two decision-interval levels around the input
    # (or the extreme level beyond the overload point).
    xi = x.astype(np.int32).ravel()
    for enc, dec in ((g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)):
        levels = np.unique(dec(ALL_CODES).astype(np.int32))
        idx = np.searchsorted(levels, xi)
        lower = levels[np.clip(idx - 1, 0, levels.size - 1)]
        upper = levels[np.clip(idx, 0, levels.size - 1)]
        y = dec(enc(x)).astype(np.int32).ravel()
        assert np.all((y == lower) | (y == upper))


def test_quantiser_is_monotonic_over_all_inputs():
    for enc, dec in ((g711.ulaw_encode, g711.ulaw_decode), (g711.alaw_encode, g711.alaw_decode)):
        assert np.all(np.diff(dec(enc(ALL_INT16)).astype(np.int32)) >= 0)


@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=2, max_side=8)))
def test_decode_keeps_shape_and_sign(codes):
    # µ-law sign bit 1 = positive (or zero); A-law sign bit 1 = positive.
    u = g711.ulaw_decode(codes)
    a = g711.alaw_decode(codes)
    assert u.shape == codes.shape and a.shape == codes.shape
    assert np.all((u >= 0) == (codes >= 0x80) | (u == 0))
    assert np.all((a > 0) == (codes >= 0x80))


@pytest.mark.parametrize("func, bad", [
    (g711.ulaw_encode, np.zeros(4, np.int32)),
    (g711.alaw_encode, np.zeros(4, np.float64)),
    (g711.ulaw_decode, np.zeros(4, np.int16)),
    (g711.alaw_decode, np.zeros(4, np.int8)),
])
def test_wrong_dtype_raises_value_error_naming_expected(func, bad):
    with pytest.raises(ValueError, match="expected an array of dtype (int16|uint8)"):
        func(bad)
