"""Nova's virt driver for IBM Z in DPM mode: ``compute_driver = dpm.DPMDriver``.

The driver itself is Rust (``dpm_nova._native``); ``DPMDriver`` is the
``nova.virt.driver.ComputeDriver`` Nova loads.
"""
from dpm_nova._native import __version__  # noqa: F401
from dpm_nova.driver import DPMDriver, DPMError  # noqa: F401

__all__ = ["DPMDriver", "DPMError"]
