"""``DPMDriver``: Nova's virt driver for IBM Z partitions in DPM mode.

Every call goes to the Rust driver (``dpm_nova._native``), which talks to
the HMC alone: Nova's compute manager does the Cinder side (attachments,
connection info) as it does for any driver. This layer only maps Nova's
objects to the Rust driver's values and its errors to Nova's exceptions.
"""
import json
import logging as std_logging

from oslo_log import log as logging

import nova.conf
from nova import exception
from nova import utils
from nova.compute import power_state
from nova.objects import fields as obj_fields
from nova.virt import driver
from nova.virt import hardware

from dpm_nova import _native
from dpm_nova import conf as dpm_conf

CONF = nova.conf.CONF
dpm_conf.register_opts(CONF)
LOG = logging.getLogger(__name__)

_POWER_STATES = {
    "running": power_state.RUNNING,
    "shutdown": power_state.SHUTDOWN,
    "paused": power_state.PAUSED,
    "nostate": power_state.NOSTATE,
}


class DPMError(exception.NovaException):
    """A driver call failed; ``kind`` and ``causes`` come from the Rust
    driver's error (its message and its chain of causes)."""
    msg_fmt = "%(reason)s"

    def __init__(self, message, kind="error", causes=()):
        self.kind = kind
        self.causes = list(causes)
        reason = message
        if self.causes:
            reason = "%s: %s" % (message, ": ".join(self.causes))
        super().__init__(reason=reason)


def _drain_logs():
    records, dropped = _native.drain_logs()
    for level, target, message in records:
        name = "dpm_nova.native." + target.replace("::", ".")
        std_logging.getLogger(name).log(level, "%s", message)
    if dropped:
        LOG.warning("%d log records of the DPM driver were dropped", dropped)


def _volume_type_of(connection_info):
    return (connection_info or {}).get("driver_volume_type")


def _fc_only(connection_info):
    kind = _volume_type_of(connection_info)
    if kind != "fibre_channel":
        raise exception.VolumeDriverNotFound(driver_type=kind)


def _plain_connection_info(connection_info):
    """The part of Nova's connection_info the driver reads."""
    return {"driver_volume_type": connection_info["driver_volume_type"],
            "data": connection_info.get("data") or {}}


class DPMDriver(driver.ComputeDriver):
    """Boots IBM Z partitions (DPM) from Cinder's FCP volumes, and attaches
    and detaches data volumes, through the HMC's Web Services API."""

    capabilities = dict(driver.ComputeDriver.capabilities)
    capabilities.update({
        "has_imagecache": False,
        "supports_evacuate": False,
        "supports_attach_interface": False,
        "supports_multiattach": False,
        "supports_extend_volume": False,
        "supports_device_tagging": False,
        "supports_tagged_attach_volume": False,
    })
    for _key in list(capabilities):
        if _key.startswith("supports_image_type_"):
            capabilities[_key] = False
    del _key

    def __init__(self, virtapi, read_only=False):
        super().__init__(virtapi)
        self._native = None

    # -- the Rust side -----------------------------------------------

    def _call(self, method, *args, instance=None, **kwargs):
        """Runs one Rust call (off the event loop under eventlet, whose
        hub it would otherwise block) and maps its failure."""
        if self._native is None:
            raise DPMError("the DPM driver is not initialized (init_host "
                           "has not run or failed)", kind="refused")
        fn = getattr(self._native, method)
        try:
            if utils.concurrency_mode_threading():
                return fn(*args, **kwargs)
            return utils.get_eventlet().tpool.execute(fn, *args, **kwargs)
        except _native.DriverError as e:
            kind, message, causes = e.args
            if kind == "not_found" and instance is not None:
                raise exception.InstanceNotFound(instance_id=instance.uuid)
            raise DPMError(message, kind=kind, causes=causes)
        finally:
            _drain_logs()

    @staticmethod
    def _flavor(instance):
        name = instance.get("display_name") or None
        return (instance.uuid, int(instance.flavor.vcpus),
                int(instance.flavor.memory_mb), name)

    # -- host --------------------------------------------------------

    def init_host(self, host):
        c = CONF.dpm
        missing = [o for o in dpm_conf.REQUIRED if getattr(c, o) in (None, "")]
        if missing:
            raise exception.InvalidConfiguration(
                "[dpm] %s must be set" % ", ".join(missing))
        try:
            self._native = _native.Driver(
                host=CONF.host,
                hmc=c.hmc,
                hmc_username=c.hmc_username,
                hmc_password=c.hmc_password,
                cpc_object_id=c.cpc_object_id,
                max_processors=c.max_processors,
                max_memory=c.max_memory,
                physical_storage_adapter_mappings=list(
                    c.physical_storage_adapter_mappings),
                target_wwpn_ignore_list=list(c.target_wwpn_ignore_list),
                max_boot_attempts=c.max_boot_attempts,
                boot_os_specific_parameters=c.boot_os_specific_parameters,
                guest_shutdown_command=c.guest_shutdown_command,
                hmc_ca_file=c.hmc_ca_file,
                hmc_notification_port=c.hmc_notification_port,
                job_timeout_seconds=c.job_timeout_seconds,
                debug=LOG.isEnabledFor(std_logging.DEBUG),
            )
        except _native.DriverError as e:
            kind, message, causes = e.args
            raise exception.InvalidConfiguration(
                ": ".join([message] + list(causes)))
        finally:
            _drain_logs()
        try:
            self._call("init_host")
        except DPMError as e:
            self._native = None
            raise exception.InvalidConfiguration(str(e))
        LOG.info("DPM driver ready: CPC %s with %s", c.cpc_object_id,
                 self._native.storage_model())

    def cleanup_host(self, host):
        self._native = None

    def get_available_nodes(self, refresh=False):
        return [CONF.host]

    def node_is_available(self, nodename):
        return nodename in self.get_available_nodes()

    def get_available_resource(self, nodename):
        r = json.loads(self._call("get_available_resource"))
        return {
            "vcpus": r["vcpus"],
            "memory_mb": r["memory_mb"],
            "local_gb": 0,
            "vcpus_used": r["vcpus_used"],
            "memory_mb_used": r["memory_mb_used"],
            "local_gb_used": 0,
            "hypervisor_type": r["hypervisor_type"],
            "hypervisor_version": r["hypervisor_version"],
            "hypervisor_hostname": nodename,
            "cpu_info": json.dumps({"arch": r["cpu_arch"]}),
            "disk_available_least": 0,
            "supported_instances": [(obj_fields.Architecture.S390X,
                                     obj_fields.HVType.PRSM,
                                     obj_fields.VMMode.HVM)],
            "numa_topology": None,
        }

    def update_provider_tree(self, provider_tree, nodename, allocations=None):
        """VCPU and MEMORY_MB within [dpm] max_processors and max_memory;
        no DISK_GB: every disk is a Cinder volume."""
        inv = provider_tree.data(nodename).inventory
        ratios = self._get_allocation_ratios(inv)
        vcpus, memory = CONF.dpm.max_processors, CONF.dpm.max_memory
        provider_tree.update_inventory(nodename, {
            "VCPU": {"total": vcpus, "min_unit": 1, "max_unit": vcpus,
                     "step_size": 1, "allocation_ratio": ratios["VCPU"],
                     "reserved": CONF.reserved_host_cpus},
            "MEMORY_MB": {"total": memory, "min_unit": 1, "max_unit": memory,
                          "step_size": 1,
                          "allocation_ratio": ratios["MEMORY_MB"],
                          "reserved": CONF.reserved_host_memory_mb},
        })

    # -- instances ---------------------------------------------------

    def list_instances(self):
        return self._call("list_instances")

    def list_instance_uuids(self):
        return self._call("list_instance_uuids")

    def instance_exists(self, instance):
        return self._call("instance_exists", instance.uuid)

    def get_info(self, instance, use_cache=True):
        state, _status = self._call("get_info", instance.uuid,
                                    instance=instance)
        return hardware.InstanceInfo(state=_POWER_STATES[state])

    def prepare_for_spawn(self, instance):
        if instance.image_ref:
            # Nothing is made for a server this driver cannot boot.
            raise exception.InstanceUnacceptable(
                instance_id=instance.uuid,
                reason="the DPM driver boots from volume only; create the "
                       "server from a bootable Cinder volume (no image "
                       "root disk)")
        self._refusing_as_unacceptable(
            instance, "prepare_for_spawn", *self._flavor(instance))

    def _refusing_as_unacceptable(self, instance, method, *args):
        try:
            return self._call(method, *args, instance=instance)
        except DPMError as e:
            if e.kind == "refused":
                raise exception.InstanceUnacceptable(
                    instance_id=instance.uuid, reason=str(e))
            raise

    def failed_spawn_cleanup(self, instance):
        self._call("failed_spawn_cleanup", instance.uuid)

    def get_volume_connector(self, instance):
        return json.loads(self._call("get_volume_connector",
                                     *self._flavor(instance),
                                     instance=instance))

    def spawn(self, context, instance, image_meta, injected_files,
              admin_password, allocations, network_info=None,
              block_device_info=None, power_on=True, accel_info=None):
        volumes = []
        for bdm in driver.block_device_info_get_mapping(block_device_info):
            info = bdm["connection_info"]
            _fc_only(info)
            boot_index = bdm.get("boot_index")
            volumes.append({
                "volume_id": bdm.volume_id,
                "connection_info": _plain_connection_info(info),
                "size_gib": int(bdm.volume_size or 0),
                "boot_index": (None if boot_index is None or boot_index < 0
                               else int(boot_index)),
            })
        if not any(v["boot_index"] == 0 for v in volumes):
            raise exception.InstanceUnacceptable(
                instance_id=instance.uuid,
                reason="the DPM driver boots from volume only, and this "
                       "server has no boot volume")
        self._refusing_as_unacceptable(instance, "spawn",
                                       *self._flavor(instance),
                                       json.dumps(volumes))
        if not power_on:
            self._call("power_off", instance.uuid, instance=instance)

    def destroy(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, destroy_secrets=True):
        self._call("destroy", instance.uuid)

    def cleanup(self, context, instance, network_info, block_device_info=None,
                destroy_disks=True, migrate_data=None, destroy_vifs=True,
                destroy_secrets=True):
        self._call("destroy", instance.uuid)

    def power_off(self, instance, timeout=0, retry_interval=0):
        # timeout > 0: a clean shutdown. The guest is sent [dpm]
        # guest_shutdown_command (the HMC's Send OS Command) every
        # retry_interval seconds until it halts (the partition is then
        # "terminated") or timeout seconds pass; then the partition is
        # stopped (Stop Partition), as with timeout 0.
        outcome = self._call("power_off", instance.uuid, int(timeout or 0),
                             int(retry_interval or 0), instance=instance)
        LOG.info("Powered off; guest shutdown: %s", outcome,
                 instance=instance)

    def power_on(self, context, instance, network_info,
                 block_device_info=None, accel_info=None, share_info=None):
        self._call("power_on", instance.uuid, instance=instance)

    def reboot(self, context, instance, network_info, reboot_type,
               block_device_info=None, bad_volumes_callback=None,
               accel_info=None, share_info=None):
        # SOFT: a clean shutdown first, with Nova's own timings for one
        # ([DEFAULT] shutdown_timeout, [compute] shutdown_retry_interval:
        # what a stop uses; the libvirt driver's soft reboot waits its own
        # [libvirt] wait_soft_reboot_seconds, then reboots hard); the
        # partition is then stopped and started. HARD: stopped at once.
        hard = reboot_type == "HARD"
        timeout, retry = (0, 0) if hard else (
            CONF.shutdown_timeout, CONF.compute.shutdown_retry_interval)
        outcome = self._call("reboot", instance.uuid, hard, timeout, retry,
                             instance=instance)
        LOG.info("Rebooted (%s); guest shutdown: %s", reboot_type, outcome,
                 instance=instance)

    def get_console_output(self, context, instance):
        return self._call("get_console_output", instance.uuid,
                          instance=instance)

    # -- volumes -----------------------------------------------------

    def attach_volume(self, context, connection_info, instance, mountpoint,
                      disk_bus=None, device_type=None, encryption=None):
        _fc_only(connection_info)
        volume_id = connection_info.get("serial")
        volume = {
            "volume_id": volume_id,
            "connection_info": _plain_connection_info(connection_info),
            "size_gib": self._volume_size(context, instance, volume_id),
        }
        self._call("attach_volume", instance.uuid, json.dumps(volume),
                   instance=instance)

    def _volume_size(self, context, instance, volume_id):
        """The volume's size, GiB (a storage-group request is sized): from
        its block device mapping, or, where Nova has not stored it yet (a
        hot attach saves it after the driver's attach), from Cinder's
        volume as Nova's own volume API reads it."""
        from nova import objects
        from nova.volume import cinder
        try:
            bdm = objects.BlockDeviceMapping.get_by_volume_and_instance(
                context, volume_id, instance.uuid)
            if bdm.volume_size:
                return int(bdm.volume_size)
        except exception.VolumeBDMNotFound:
            pass
        return int(cinder.API().get(context, volume_id)["size"])

    def detach_volume(self, context, connection_info, instance, mountpoint,
                      encryption=None):
        _fc_only(connection_info)
        self._call("detach_volume", instance.uuid,
                   connection_info.get("serial"),
                   json.dumps(_plain_connection_info(connection_info)),
                   instance=instance)
