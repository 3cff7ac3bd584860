"""The ``[dpm]`` options, registered with oslo.config.

The names are nova-dpm's, and the ``dpm`` CLI's ``[dpm]`` section uses the
same ones with the same meaning (the README documents them once). Values
are checked by the Rust driver when ``init_host`` builds it; every error
names the option.
"""
from oslo_config import cfg

GROUP = cfg.OptGroup(
    "dpm",
    title="IBM Z DPM",
    help="The HMC, the CPC and the FCP adapter ports of this compute host "
         "(compute_driver = dpm.DPMDriver).")

OPTS = [
    cfg.StrOpt("hmc",
               help="The HMC's host name or IP address (port 6794), or its "
                    "URL, https://host:port."),
    cfg.StrOpt("hmc_username",
               help="The HMC user the driver logs on as."),
    cfg.StrOpt("hmc_password", secret=True,
               help="That user's password."),
    cfg.StrOpt("hmc_ca_file",
               help="The CA certificates (PEM) the HMC's certificate must "
                    "chain to. When unset, the system's trusted roots."),
    cfg.PortOpt("hmc_notification_port", default=61612,
                help="The port of the HMC's notification service (STOMP "
                     "over TLS), used to wait for jobs. 0 polls every job "
                     "instead."),
    cfg.StrOpt("cpc_object_id",
               help="The object id (a UUID) of the CPC, in DPM mode, whose "
                    "partitions this host manages."),
    cfg.IntOpt("max_processors",
               help="The most IFLs this host's partitions use together: "
                    "the VCPU inventory it reports."),
    cfg.IntOpt("max_memory",
               help="The most memory (MiB) this host's partitions use "
                    "together: the MEMORY_MB inventory it reports; at "
                    "least 512."),
    cfg.MultiStrOpt("physical_storage_adapter_mappings", default=[],
                    help="An FCP adapter port assigned to this host, as "
                         "\"<adapter object-id>:<port>\" (port 0 to 3); "
                         "once per port. Each instance gets one path "
                         "(a vHBA on a z13, a storage-group port on z14 "
                         "and later) per mapping; the first is the boot "
                         "path."),
    cfg.ListOpt("target_wwpn_ignore_list", default=[],
                help="Storage target WWPNs never used to boot from."),
    cfg.IntOpt("max_boot_attempts", default=4,
               help="On a CPC without storage management (z13): how many "
                    "boot paths (vHBA and target) a spawn tries, each a "
                    "start that failed, before it gives up."),
    cfg.BoolOpt("boot_os_specific_parameters", default=True,
                help="Whether spawn hands the boot volume's paths to the "
                     "SCSI loader as rd.zfcp= entries in the partition's "
                     "boot-os-specific-parameters, so that the guest finds "
                     "its root volume on every path."),
    cfg.StrOpt("guest_shutdown_command", default="shutdown -h now",
               help="The command line a clean shutdown gives the guest "
                    "(the HMC's Send OS Command, on SE 2.13.1 and later) "
                    "before its partition is stopped: on a stop with "
                    "Nova's shutdown_timeout, and on a soft reboot. The "
                    "partition is stopped when the guest has halted "
                    "(status terminated) or the timeout has passed. One "
                    "line, not empty."),
    cfg.IntOpt("job_timeout_seconds", default=900, min=1,
               help="The longest wait, in seconds, for one HMC job (a "
                    "partition start or stop)."),
]

REQUIRED = ("hmc", "hmc_username", "hmc_password", "cpc_object_id",
            "max_processors", "max_memory")


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)


def list_opts():
    """For oslo-config-generator (the ``oslo.config.opts`` entry point)."""
    return {GROUP: OPTS}
