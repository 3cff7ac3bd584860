"""``compute_driver = dpm.DPMDriver``: Nova imports its drivers as
``nova.virt.<name>``; this module, installed by the dpm-nova wheel, is
that name for ``dpm_nova.DPMDriver``."""
from dpm_nova.driver import DPMDriver  # noqa: F401

__all__ = ["DPMDriver"]
