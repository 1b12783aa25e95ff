"""The DSP receivers' native kernels: their per-tick decisions for every channel in one call
(docs/architecture.md §4). Everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

# -O3 lets the compiler vectorise the per-channel loops (NEON on the Pi's Cortex-A, SSE2 on x86-64,
# both baseline, so no -march); no -ffast-math: the receivers' tests rely on IEEE comparisons.
FLAGS = ["-O3", "-std=c11", "-Wall", "-Wextra"]
# Optional: HQ's server installs this package for `hq/` alone and may have no compiler; the box's
# installs (`make deps`, `make install`) import both kernels right after, so there a failed build stops them.
KERNELS = [Extension(f"dsp.{name}", [f"dsp/{name}.c"], depends=["dsp/kernel_support.h"], extra_compile_args=FLAGS,
                     optional=True)
           for name in ("dtmf_kernel", "mfr2_kernel")]

setup(ext_modules=KERNELS)
