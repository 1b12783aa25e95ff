"""Shared analysis: products and energies of whole sub-blocks, frames and half frames match direct sums."""

import numpy as np
import pytest

from dsp import blocks


@pytest.fixture
def samples():
    rng = np.random.default_rng(40)
    return (rng.normal(3000.0, 8000.0, (5, 3 * blocks.FRAME))).astype(np.int16)


def test_products_by_time_scale(samples):
    rng = np.random.default_rng(1)
    sub, frame, half = (rng.normal(size=(n, 3)).astype(np.float32)
                        for n in (blocks.SUB, blocks.FRAME, blocks.HALF))
    analysis = blocks.Analyser(sub, frame, half).analyse(samples)
    x = samples.astype(np.float64)
    frames = x.reshape(5, -1, blocks.FRAME)
    for basis, expected in ((sub, x.reshape(5, -1, blocks.SUB) @ sub), (frame, frames @ frame),
                            (half, frames[..., :blocks.HALF] @ half)):
        np.testing.assert_allclose(analysis.product(basis, "t"), expected, rtol=1e-4, atol=1)
    with pytest.raises(ValueError, match="t: this analysis was not made with the detector's columns"):
        analysis.product(sub.copy(), "t")


def test_energies_with_and_without_dc(samples):
    analysis = blocks.Analyser().analyse(samples)
    x = samples.astype(np.float64)
    np.testing.assert_allclose(analysis.sub_energy, np.square(x.reshape(5, -1, blocks.SUB)).sum(-1),
                               rtol=1e-5)
    frames = x.reshape(5, -1, blocks.FRAME)
    np.testing.assert_allclose(analysis.frame_energy, np.square(frames).sum(-1), rtol=1e-5)
    ac = np.square(frames - frames.mean(-1, keepdims=True)).sum(-1)
    np.testing.assert_allclose(analysis.ac_energy, ac, rtol=1e-3)
    halves = frames[..., :blocks.HALF]
    np.testing.assert_allclose(analysis.half_ac_energy,
                               np.square(halves - halves.mean(-1, keepdims=True)).sum(-1), rtol=1e-3)


def test_bases_must_fit_a_time_scale():
    with pytest.raises(ValueError, match="float32 bases of 40, 160 or 80 rows"):
        blocks.Analyser(np.zeros((50, 2), np.float32))
    with pytest.raises(ValueError, match="float32"):
        blocks.Analyser(np.zeros((40, 2)))
