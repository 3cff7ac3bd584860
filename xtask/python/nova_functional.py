"""Nova itself on dpm_nova.DPMDriver, over the real wire.

Nova's own functional machinery (API, conductor, scheduler and compute in
one process, in-memory database and messaging, placement, neutron and
glance as its fixtures) with ``compute_driver = dpm.DPMDriver``; Nova's
``[cinder]`` points at ``dpm-sim serve``'s Cinder over HTTP (no
CinderFixture: Nova's own volume API does every call, with a token the
simulator's Keystone issued) and ``[dpm]`` at its HMC over HTTPS.

Every scenario asserts the simulated world (partitions, vHBAs or storage
groups and VSRs, host mappings, zones, volumes and attachments, read from
the simulator's control routes) and not only Nova's answers.

Run: DPM_SIM_ENDPOINTS=<endpoints.json> DPM_SIM_WORLD=<z16|z13>
     python -m unittest nova_functional
"""
# Nova's functional-tests package monkey-patches eventlet when imported.
# It must come before anything that imports oslo.context or urllib3: one
# imported first keeps the real thread-locals, and concurrent builds then
# share one database transaction ("Can't upgrade a READER transaction to a
# WRITER mid-transaction").
import nova.tests.functional  # noqa: F401  isort: skip

import contextlib
import importlib
import json
import os
import sys
import time
import threading
import tomllib
import urllib.request

import fixtures
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from nova import context as nova_context
from nova import test
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional import fixtures as func_fixtures
from nova.tests.functional.api import client as api_client
from nova.tests.functional import integrated_helpers

import dpm_nova  # noqa: F401  (registers [dpm])

class _ReaderPreferringLock:
    """A reader-writer lock whose readers wait only for a writer that holds
    it, never for one that waits.

    Nova's CellDatabases fixture guards its switch of cell with a
    writer-preferring lock, and its DatabaseWriteLock fixture serializes
    each database's writers with another lock, the two taken in either
    order. Under native threads (no eventlet) concurrent builds deadlock
    on them: a thread in a write transaction waits to read the cell, a
    thread switching cells waits for the readers to leave, and a reader
    waits for the write transaction's lock. Seen with ten servers booted
    at once; a fixture matter (a real deployment has neither fixture), so
    the harness replaces the fixture's lock. A writer only sets which cell
    is current and lets go, so readers not waiting for waiting writers
    cannot starve it for long.
    """

    def __init__(self, *_a, **_kw):
        self._cond = threading.Condition()
        self._readers = {}
        self._writer = None
        self._depth = 0

    @contextlib.contextmanager
    def read_lock(self):
        me = threading.get_ident()
        with self._cond:
            while self._writer not in (None, me):
                self._cond.wait()
            self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield self
        finally:
            with self._cond:
                left = self._readers[me] - 1
                if left:
                    self._readers[me] = left
                else:
                    del self._readers[me]
                self._cond.notify_all()

    @contextlib.contextmanager
    def write_lock(self):
        me = threading.get_ident()
        with self._cond:
            while (self._writer not in (None, me)
                   or any(t != me for t in self._readers)):
                self._cond.wait()
            self._writer = me
            self._depth += 1
        try:
            yield self
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
                self._cond.notify_all()


if os.environ.get("OS_NOVA_DISABLE_EVENTLET_PATCHING", "").lower() in ("1", "true", "yes"):
    # CellDatabases makes its lock from this module-level name.
    importlib.import_module("nova.tests.fixtures.nova").ReaderWriterLock = (
        _ReaderPreferringLock)


ENDPOINTS = os.environ.get("DPM_SIM_ENDPOINTS", "")
WORLD = os.environ.get("DPM_SIM_WORLD", "z16")
TIMEOUT = float(os.environ.get("DPM_NOVA_TIMEOUT", "120"))


def _load():
    with open(ENDPOINTS) as f:
        e = json.load(f)
    with open(os.path.join(os.path.dirname(ENDPOINTS), "dpm.toml"), "rb") as f:
        e["dpm"] = tomllib.load(f)["dpm"]
    return e


def control(e, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(e["control"]["url"] + path, data=data,
                                 method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
    return json.loads(text) if text else None


def world(e):
    return control(e, "GET", "/sim/world")


def leaks(e):
    return control(e, "GET", "/sim/leaks")


def keystone_session(e):
    k = e["keystone"]
    auth = v3.Password(auth_url=k["auth_url"], username=k["username"],
                       password=k["password"], project_name=k["project_name"],
                       user_domain_name=k["user_domain_name"],
                       project_domain_name=k["project_domain_name"])
    return ks_session.Session(auth=auth)


class DPMNovaTestCase(test.TestCase, integrated_helpers.InstanceHelperMixin):
    """Nova's services in one process, on the DPM driver and the served
    simulator."""

    REQUIRES_LOCKING = True
    HOST = "dpm-compute"
    #: The driver Nova loads (as nova.virt.<name>).
    COMPUTE_DRIVER = "dpm.DPMDriver"

    def setUp(self):
        super().setUp()
        self.e = _load()
        self.ks = keystone_session(self.e)
        self.project_id = self.e["cinder"]["endpoint"].rstrip("/").rsplit("/", 1)[1]
        cinder_base = self.e["cinder"]["endpoint"].rsplit("/", 1)[0]
        self.cinder_url = self.e["cinder"]["endpoint"]
        d = self.e["dpm"]
        self.flags(compute_driver=self.COMPUTE_DRIVER,
                   reserved_host_memory_mb=0,
                   reserved_host_cpus=0)
        self.flags(group="dpm",
                   hmc=d["hmc"], hmc_username=d["hmc_username"],
                   hmc_password=d["hmc_password"],
                   hmc_ca_file=self.e["hmc"]["ca_cert"],
                   hmc_notification_port=self.e["hmc"]["notification_port"],
                   cpc_object_id=d["cpc_object_id"],
                   max_processors=d["max_processors"],
                   max_memory=d["max_memory"],
                   physical_storage_adapter_mappings=d[
                       "physical_storage_adapter_mappings"])
        # Nova's wheel installs api-paste.ini under the environment's
        # etc/nova, where Nova does not look by itself.
        self.flags(group="wsgi", api_paste_config=os.path.join(
            sys.prefix, "etc", "nova", "api-paste.ini"))
        self.flags(group="cinder",
                   endpoint_template=cinder_base + "/%(project_id)s")

        self.placement = self.useFixture(func_fixtures.PlacementFixture()).api
        self.neutron = self.useFixture(nova_fixtures.NeutronFixture(self))
        self.glance = self.useFixture(nova_fixtures.GlanceFixture(self))
        self.useFixture(nova_fixtures.RealPolicyFixture())
        self.notifier = self.useFixture(nova_fixtures.NotificationFixture(self))

        self.conductor = self.start_service("conductor")
        self.scheduler = self.start_service("scheduler")
        self.compute = self.start_service("compute", host=self.HOST)

        self.api_fixture = self.useFixture(nova_fixtures.OSAPIFixture(
            api_version="v2.1", project_id=self.project_id))
        # Keystone itself is stubbed in Nova's API (keystonemiddleware);
        # the request context gets a real token of the simulator's
        # Keystone, so that every call Nova makes to Cinder is authorized
        # by Cinder as it would be in a cloud.
        token = self.ks.get_token()

        def ctx(env, **kwargs):
            kwargs["auth_token"] = token
            user_id = env["HTTP_X_AUTH_USER"]
            return nova_context.RequestContext(
                user_id, env["HTTP_X_AUTH_PROJECT_ID"],
                is_admin=user_id == "admin",
                roles=env["HTTP_X_ROLES"].split(","), **kwargs)

        self.useFixture(fixtures.MonkeyPatch(
            "nova.api.auth.NovaKeystoneContext._create_context", ctx))
        self.api = self.api_fixture.admin_api
        self.api.microversion = "latest"
        self.admin_api = self.api
        self.addCleanup(self._no_leaks)
        self.addCleanup(self._delete_every_server)

    # -- Cinder, through its wire ----------------------------------

    def cinder(self, method, path, body=None):
        headers = {"OpenStack-API-Version": "volume 3.44"}
        r = self.ks.request(self.cinder_url + path, method,
                            json=body, headers=headers, raise_exc=False)
        self.assertLess(r.status_code, 400, "%s %s: %s" % (method, path, r.text))
        return r.json() if r.text else None

    def volume(self, vid):
        return self.cinder("GET", "/volumes/" + vid)["volume"]

    def make_volume(self, name, size, bootable):
        body = {"size": size, "name": name}
        if bootable:
            body["imageRef"] = self.e["images"][0]["id"]
        vid = self.cinder("POST", "/volumes", {"volume": body})["volume"]["id"]
        self.wait(lambda: self.volume(vid)["status"] == "available",
                  "volume %s available" % vid)
        return vid

    def wait(self, cond, what, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                self.fail("timed out waiting for " + what)
            time.sleep(0.05)

    def server_status(self, sid, status):
        def ok():
            s = self.api.get_server(sid)
            if s["status"] == "ERROR" and status != "ERROR":
                self.fail("server %s went to ERROR: %s" % (sid, s.get("fault")))
            # Nova sets ERROR before it records the fault.
            return (s["status"] == status and s.get("OS-EXT-STS:task_state") is None
                    and (status != "ERROR" or "fault" in s))
        self.wait(ok, "server %s %s" % (sid, status))
        return self.api.get_server(sid)

    def boot(self, name, volume_id):
        flavor = min(self.api.get_flavors(), key=lambda f: f["ram"])["id"]
        server = self._build_server(name=name, image_uuid="",
                                    flavor_id=flavor, networks="none")
        server["block_device_mapping_v2"] = [{
            "boot_index": 0, "uuid": volume_id, "source_type": "volume",
            "destination_type": "volume", "delete_on_termination": False}]
        return self.api.post_server({"server": server})

    def gone(self, sid):
        def deleted():
            try:
                self.api.get_server(sid)
            except api_client.OpenStackApiNotFoundException:
                return True
            return False
        self.wait(deleted, "server %s deleted" % sid)

    def delete(self, sid):
        self.api.delete_server(sid)
        self.gone(sid)

    # -- the simulated world ---------------------------------------

    def console(self, sid):
        """The server's console output (os-getConsoleOutput), as lines."""
        out = self.api.post_server_action(sid, {"os-getConsoleOutput": {}})
        return out["output"].splitlines()

    def partition_of(self, w, sid):
        found = [p for p in w["partitions"] if sid in p["name"]]
        self.assertEqual(1, len(found), "one partition for %s in %s" % (sid, w["partitions"]))
        return found[0]

    def _delete_every_server(self):
        """A failed test still deletes its servers through Nova, so that the
        next one starts on an empty host (Nova refuses to start a new
        compute service on a hypervisor that has instances)."""
        servers = self.api.get_servers(detail=False)
        for s in servers:
            self.api.delete_server(s["id"])
        for s in servers:
            self.gone(s["id"])

    def _no_leaks(self):
        left = {k: v for k, v in leaks(self.e).items() if v}
        self.assertEqual({}, left, "left behind in the simulated world")


class BootFromVolume(DPMNovaTestCase):

    def test_inventory_is_the_configured_limits(self):
        rps = self.placement.get("/resource_providers?name=" + self.HOST).body
        (rp,) = rps["resource_providers"]
        inv = self.placement.get(
            "/resource_providers/%s/inventories" % rp["uuid"]).body["inventories"]
        self.assertEqual({"VCPU", "MEMORY_MB"}, set(inv))
        self.assertEqual(self.e["dpm"]["max_processors"], inv["VCPU"]["total"])
        self.assertEqual(self.e["dpm"]["max_memory"], inv["MEMORY_MB"]["total"])

    def test_boot_attach_detach_power_and_delete(self):
        boot = self.make_volume("root", 10, bootable=True)
        data = self.make_volume("data", 5, bootable=False)
        server = self.boot("dpm-vm", boot)
        sid = server["id"]
        self.server_status(sid, "ACTIVE")

        w = world(self.e)
        p = self.partition_of(w, sid)
        self.assertEqual("active", p["status"])
        v = self.volume(boot)
        self.assertEqual("in-use", v["status"])
        self.assertEqual([sid], [a["server_id"] for a in v["attachments"]])
        att = [a for a in w["attachments"] if a["volume"] == boot]
        self.assertEqual(1, len(att), w["attachments"])
        self.assertEqual((sid, "attached"), (att[0]["instance"], att[0]["status"]))
        wwpns = self.initiators(w, p)
        self.assertEqual(len(self.e["dpm"]["physical_storage_adapter_mappings"]), len(wwpns))
        # Cinder masked the LUN to exactly the driver's WWPNs.
        self.assertEqual([wwpns], [sorted(h["wwpns"]) for h in self.hosts_of(w, boot)])
        self.assertTrue(w["zones"], "Cinder zoned the fabrics")
        self.assertBootsFrom(w, p, boot)

        # Hot attach, then detach, of a data volume.
        self.api.post_server_volume(sid, {"volumeAttachment": {"volumeId": data}})
        self.wait(lambda: self.volume(data)["status"] == "in-use", "data in-use")
        w = world(self.e)
        self.assertReaches(w, self.partition_of(w, sid), data)
        self.api.delete_server_volume(sid, data)
        self.wait(lambda: self.volume(data)["status"] == "available", "data available")
        w = world(self.e)
        self.assertNotReaches(w, self.partition_of(w, sid), data)
        self.assertEqual([], self.volume(data)["attachments"])

        # Stop (a clean shutdown: Nova's shutdown_timeout), start, soft
        # and hard reboot.
        self.api.post_server_action(sid, {"os-stop": None})
        self.server_status(sid, "SHUTOFF")
        self.assertEqual("stopped", self.partition_of(world(self.e), sid)["status"])
        # The guest was asked and shut down by itself before the stop: its
        # console (the HMC's OS messages, read through Nova and the driver)
        # ends with the echoed command and the guest's shutdown lines.
        lines = self.console(sid)
        self.assertTrue(any(l.endswith("# shutdown -h now") for l in lines), lines)
        self.assertTrue(any("Stopping" in l for l in lines), lines)
        self.assertEqual("reboot: Power down", lines[-1], lines)
        self.api.post_server_action(sid, {"os-start": None})
        self.server_status(sid, "ACTIVE")
        self.assertEqual("active", self.partition_of(world(self.e), sid)["status"])
        for kind in ("SOFT", "HARD"):
            self.api.post_server_action(sid, {"reboot": {"type": kind}})
            self.server_status(sid, "ACTIVE")
            self.assertEqual("active", self.partition_of(world(self.e), sid)["status"])

        self.delete(sid)
        w = world(self.e)
        self.assertEqual([], [p for p in w["partitions"] if sid in p["name"]])
        for vid in (boot, data):
            v = self.volume(vid)
            self.assertEqual("available", v["status"])
            self.assertEqual([], v["attachments"])

    def test_failed_boot_leaves_nothing(self):
        boot = self.make_volume("root", 10, bootable=True)
        control(self.e, "POST", "/sim/faults",
                {"op": "hmc.start_partition", "count": 100, "status": 500,
                 "reason": 263, "message": "injected: the start failed"})
        self.addCleanup(control, self.e, "DELETE", "/sim/faults")
        sid = self.boot("dpm-fails", boot)["id"]
        self.server_status(sid, "ERROR")
        control(self.e, "DELETE", "/sim/faults")
        w = world(self.e)
        self.assertEqual([], [p for p in w["partitions"] if sid in p["name"]])
        self.wait(lambda: self.volume(boot)["status"] == "available", "volume available")
        self.assertEqual([], self.volume(boot)["attachments"])
        self.delete(sid)

    def test_image_root_disk_is_refused_and_nothing_is_made(self):
        # A flavor without a root disk, so that the scheduler (which finds
        # no DISK_GB on this host) lets the server reach the driver.
        flavor = self.api.post_flavor({"flavor": {
            "name": "no-disk", "ram": 512, "vcpus": 1, "disk": 0}})["id"]
        image = self.glance.image2["id"]  # no architecture of its own
        server = self._build_server(name="from-image", image_uuid=image,
                                    flavor_id=flavor, networks="none")
        sid = self.api.post_server({"server": server})["id"]
        s = self.server_status(sid, "ERROR")
        self.assertIn("boots from volume only", s["fault"]["message"])
        self.assertEqual([], [p for p in world(self.e)["partitions"] if sid in p["name"]])
        self.delete(sid)

    def test_ten_servers_at_once(self):
        vols = [self.make_volume("root-%d" % i, 10, bootable=True) for i in range(10)]
        sids = [self.boot("dpm-%d" % i, v)["id"] for i, v in enumerate(vols)]
        for sid in sids:
            self.server_status(sid, "ACTIVE")
        w = world(self.e)
        for sid in sids:
            self.assertEqual("active", self.partition_of(w, sid)["status"])
        for sid in sids:
            self.api.delete_server(sid)
        for sid in sids:
            self.gone(sid)
        w = world(self.e)
        self.assertEqual([], [p for p in w["partitions"] if any(s in p["name"] for s in sids)])
        for v in vols:
            self.assertEqual("available", self.volume(v)["status"])

    # -- world assertions per storage model ------------------------

    def initiators(self, w, p):
        """The partition's WWPNs: its vHBAs' (z13) or its group's."""
        if WORLD == "z13":
            return sorted(h["wwpn"] for h in self.hbas_of(w, p))
        (g,) = [g for g in w["storage_groups"] if g["name"] == p["name"]]
        return sorted(x["wwpn"] for x in g["wwpns"])

    def assertBootsFrom(self, w, p, volume_id):
        """The partition's boot properties point at the volume's LUN."""
        if WORLD == "z13":
            self.assertEqual("storage-adapter", p["boot_device"])
            # It boots over one of its own vHBAs.
            self.assertTrue((p["boot_storage_device"] or "").startswith(p["uri"] + "/hbas/"))
            self.assertTrue(p["boot_world_wide_port_name"])
            self.assertIsNotNone(p["boot_logical_unit_number"])
        else:
            (g,) = [g for g in w["storage_groups"] if g["name"] == p["name"]]
            boots = [v["uri"] for v in g["volumes"] if v["cinder_volume"] == volume_id]
            self.assertEqual("storage-volume", p["boot_device"])
            self.assertEqual(boots, [p["boot_storage_volume"]])
            self.assertEqual(len(g["wwpns"]),
                             len([r for r in g["vsrs"] if r["partition"] == p["uri"]]))
        self.assertReaches(w, p, volume_id)

    def hbas_of(self, w, p):
        return [h for h in w["hbas"] if h["partition"] == p["name"]]

    def hosts_of(self, w, volume_id):
        return [h for h in w["hosts"] if volume_id in h["mappings"].values()]

    def assertReaches(self, w, p, volume_id):
        """Cinder maps the LUN to the partition's initiators, and with
        storage groups the group holds the volume, fulfilled."""
        wwpns = self.initiators(w, p)
        self.assertEqual([wwpns], [sorted(h["wwpns"]) for h in self.hosts_of(w, volume_id)])
        if WORLD != "z13":
            (g,) = [g for g in w["storage_groups"] if g["name"] == p["name"]]
            self.assertEqual(["complete"], [v["fulfillment_state"] for v in g["volumes"]
                                            if v["cinder_volume"] == volume_id])

    def assertNotReaches(self, w, p, volume_id):
        self.assertEqual([], self.hosts_of(w, volume_id))
        if WORLD != "z13":
            (g,) = [g for g in w["storage_groups"] if g["name"] == p["name"]]
            self.assertEqual([], [v for v in g["volumes"] if v["cinder_volume"] == volume_id])
