"""dpm_nova.DPMDriver's edges, against a served world without Nova's
services: what crosses into Python when a call cannot be done.

- bad [dpm] values stop init_host with InvalidConfiguration naming the
  option, and nothing is sent to the HMC for them;
- an instance that is not there: InstanceNotFound from get_info and the
  power calls, instance_exists False, destroy a success;
- a connection_info that is not Fibre Channel: VolumeDriverNotFound;
- an image root disk: InstanceUnacceptable, nothing made;
- the Rust side's log events reach Python's logging, and never carry the
  HMC password.

Run: DPM_SIM_ENDPOINTS=... python -m unittest nova_driver
"""
import io
import json
import logging
import os
import tomllib
import unittest
import urllib.request
import uuid

import nova.conf
from nova import exception

from dpm_nova import DPMDriver, DPMError

CONF = nova.conf.CONF
ENDPOINTS = os.environ.get("DPM_SIM_ENDPOINTS", "")


def _load():
    with open(ENDPOINTS) as f:
        e = json.load(f)
    with open(os.path.join(os.path.dirname(ENDPOINTS), "dpm.toml"), "rb") as f:
        e["dpm"] = tomllib.load(f)["dpm"]
    return e


def leaks(e):
    with urllib.request.urlopen(e["control"]["url"] + "/sim/leaks", timeout=30) as r:
        return {k: v for k, v in json.load(r).items() if v}


class Flavor:
    vcpus = 1
    memory_mb = 1024


class Instance(dict):
    def __init__(self, image_ref=""):
        super().__init__(display_name="edge")
        self.uuid = str(uuid.uuid4())
        self.flavor = Flavor()
        self.image_ref = image_ref


class DriverEdges(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.e = _load()
        CONF([], project="nova", default_config_files=[])
        CONF.set_override("host", "dpm-edges")

    def setUp(self):
        d = self.e["dpm"]
        for k in ("hmc", "hmc_username", "hmc_password", "cpc_object_id",
                  "max_processors", "max_memory", "physical_storage_adapter_mappings"):
            CONF.set_override(k, d[k], group="dpm")
        CONF.set_override("hmc_ca_file", self.e["hmc"]["ca_cert"], group="dpm")
        CONF.set_override("hmc_notification_port", self.e["hmc"]["notification_port"],
                          group="dpm")
        self.addCleanup(CONF.clear_override, "cpc_object_id", group="dpm")
        self.addCleanup(CONF.clear_override, "physical_storage_adapter_mappings", group="dpm")
        self.addCleanup(CONF.clear_override, "max_memory", group="dpm")

    def ready(self):
        driver = DPMDriver(None)
        driver.init_host("dpm-edges")
        return driver

    def test_bad_options_are_refused_at_init_host_naming_the_option(self):
        cases = [
            ("cpc_object_id", "not-a-uuid", "[dpm] cpc_object_id"),
            ("max_memory", 100, "[dpm] max_memory"),
            ("physical_storage_adapter_mappings", ["nonsense"],
             "[dpm] physical_storage_adapter_mappings"),
            # A well-formed CPC the HMC does not have.
            ("cpc_object_id", "c0000009-63d7-11f0-8067-fa163ed76c47", "c0000009"),
        ]
        for option, value, named in cases:
            CONF.set_override(option, value, group="dpm")
            with self.assertRaises(exception.InvalidConfiguration) as cm:
                self.ready()
            self.assertIn(named, str(cm.exception), option)
            CONF.set_override(option, self.e["dpm"][option], group="dpm")
        CONF.set_override("hmc_password", None, group="dpm")
        with self.assertRaises(exception.InvalidConfiguration) as cm:
            self.ready()
        self.assertIn("hmc_password", str(cm.exception))

    def test_a_missing_instance(self):
        driver = self.ready()
        gone = Instance()
        for call in (lambda: driver.get_info(gone),
                     lambda: driver.power_on(None, gone, None),
                     lambda: driver.power_off(gone),
                     lambda: driver.reboot(None, gone, None, "HARD")):
            with self.assertRaises(exception.InstanceNotFound):
                call()
        self.assertFalse(driver.instance_exists(gone))
        driver.destroy(None, gone, None)
        self.assertNotIn(gone.uuid, driver.list_instance_uuids())

    def test_only_fibre_channel_volumes(self):
        driver = self.ready()
        inst = Instance()
        info = {"driver_volume_type": "iscsi", "data": {}, "serial": str(uuid.uuid4())}
        with self.assertRaises(exception.VolumeDriverNotFound):
            driver.attach_volume(None, info, inst, "/dev/vdb")
        with self.assertRaises(exception.VolumeDriverNotFound):
            driver.detach_volume(None, info, inst, "/dev/vdb")
        self.assertEqual({}, leaks(self.e))

    def test_an_image_root_disk_is_refused_with_nothing_made(self):
        driver = self.ready()
        with self.assertRaises(exception.InstanceUnacceptable):
            driver.prepare_for_spawn(Instance(image_ref=str(uuid.uuid4())))
        self.assertEqual({}, leaks(self.e))

    def test_a_connector_then_cleanup(self):
        driver = self.ready()
        inst = Instance()
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        root = logging.getLogger("dpm_nova")
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        try:
            c = driver.get_volume_connector(inst)
            self.assertEqual(c, driver.get_volume_connector(inst))
            self.assertEqual(len(self.e["dpm"]["physical_storage_adapter_mappings"]),
                             len(c["wwpns"]))
            self.assertTrue(driver.instance_exists(inst))
            self.assertIn(inst.uuid, driver.list_instance_uuids())
            driver.failed_spawn_cleanup(inst)
            self.assertFalse(driver.instance_exists(inst))
        finally:
            root.removeHandler(handler)
        logged = stream.getvalue()
        self.assertIn(inst.uuid, logged)
        self.assertNotIn(self.e["dpm"]["hmc_password"], logged)
        self.assertEqual({}, leaks(self.e))

    def test_errors_carry_the_rust_message(self):
        driver = self.ready()
        bad = Instance()
        bad.uuid = "not-a-uuid"
        with self.assertRaises(DPMError) as cm:
            driver.instance_exists(bad)
        self.assertEqual("invalid", cm.exception.kind)
        self.assertIn("not-a-uuid", str(cm.exception))
