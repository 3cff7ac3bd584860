"""Ten spawns through dpm_nova.DPMDriver from ten Python threads at once.

With 20 ms added to every HMC and Cinder request (the simulator's latency
control), one spawn is timed alone, then ten at once on ten threads; the
ten must finish within 1.5 times the one (every call releases the GIL and
nothing in the driver serializes them). The world is checked after each
round: ten active partitions, and nothing left once they are destroyed.

Run: python nova_threads.py <endpoints.json>   (prints one JSON line)
"""
import json
import os
import statistics
import sys
import threading
import time
import tomllib
import urllib.request
import uuid

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

import nova.conf
from dpm_nova import DPMDriver

CONF = nova.conf.CONF
LIMIT = 1.5


def control(e, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(e["control"]["url"] + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
    return json.loads(text) if text else None


def expect(cond, what):
    if not cond:
        print("FAILED: " + what, file=sys.stderr)
        sys.exit(1)


class Flavor:
    vcpus = 1
    memory_mb = 1024


class Instance(dict):
    """What the driver reads of Nova's Instance."""

    def __init__(self, name):
        super().__init__(display_name=name)
        self.uuid = str(uuid.uuid4())
        self.flavor = Flavor()
        self.image_ref = ""


class Bdm(dict):
    """What the driver reads of Nova's DriverVolumeBlockDevice."""

    def __init__(self, volume_id, size, connection_info):
        super().__init__(connection_info=connection_info, boot_index=0)
        self.volume_id = volume_id
        self.volume_size = size


class Cinder:
    def __init__(self, e):
        k = e["keystone"]
        auth = v3.Password(auth_url=k["auth_url"], username=k["username"],
                           password=k["password"], project_name=k["project_name"],
                           user_domain_name=k["user_domain_name"],
                           project_domain_name=k["project_domain_name"])
        self.s = ks_session.Session(auth=auth)
        self.url = e["cinder"]["endpoint"]
        self.image = e["images"][0]["id"]

    def call(self, method, path, body=None):
        r = self.s.request(self.url + path, method, json=body, raise_exc=False,
                           headers={"OpenStack-API-Version": "volume 3.44"})
        expect(r.status_code < 400, "%s %s: %s" % (method, path, r.text))
        return r.json() if r.text else None

    def boot_volume(self, name):
        vid = self.call("POST", "/volumes", {"volume": {
            "size": 10, "name": name, "imageRef": self.image}})["volume"]["id"]
        for _ in range(2000):
            if self.call("GET", "/volumes/" + vid)["volume"]["status"] == "available":
                return vid
            time.sleep(0.01)
        expect(False, "volume %s available" % vid)

    def attach(self, vid, instance, connector):
        a = self.call("POST", "/attachments", {"attachment": {
            "volume_uuid": vid, "instance_uuid": instance.uuid,
            "connector": connector}})["attachment"]
        info = dict(a["connection_info"])
        info.pop("attachment_id", None)
        return a["id"], {"driver_volume_type": info.pop("driver_volume_type"),
                         "data": info, "serial": vid}


def prepared(driver, cinder, n):
    """n instances with partitions, initiators and attachments: ready to
    spawn."""
    out = []
    for i in range(n):
        inst = Instance("thread-%d" % i)
        vid = cinder.boot_volume("thread-%d" % i)
        driver.prepare_for_spawn(inst)
        connector = driver.get_volume_connector(inst)
        att, info = cinder.attach(vid, inst, connector)
        out.append((inst, vid, att, info))
    return out


def spawn(driver, item):
    inst, vid, _att, info = item
    driver.spawn(None, inst, None, [], None, {},
                 block_device_info={"block_device_mapping": [Bdm(vid, 10, info)]})


def teardown(driver, cinder, items):
    for inst, vid, att, _info in items:
        driver.destroy(None, inst, None)
        cinder.call("DELETE", "/attachments/" + att)


def main():
    with open(sys.argv[1]) as f:
        e = json.load(f)
    with open(os.path.join(os.path.dirname(sys.argv[1]), "dpm.toml"), "rb") as f:
        d = tomllib.load(f)["dpm"]
    CONF([], project="nova", default_config_files=[])
    CONF.set_override("host", "dpm-threads")
    for k in ("hmc", "hmc_username", "hmc_password", "cpc_object_id",
              "max_processors", "max_memory", "physical_storage_adapter_mappings"):
        CONF.set_override(k, d[k], group="dpm")
    CONF.set_override("hmc_ca_file", e["hmc"]["ca_cert"], group="dpm")
    CONF.set_override("hmc_notification_port", e["hmc"]["notification_port"], group="dpm")
    driver = DPMDriver(None)
    driver.init_host("dpm-threads")
    cinder = Cinder(e)
    control(e, "POST", "/sim/latency", {"hmc_ms": 20, "cinder_ms": 20})
    try:
        singles = []
        for _ in range(3):
            items = prepared(driver, cinder, 1)
            t = time.monotonic()
            spawn(driver, items[0])
            singles.append(time.monotonic() - t)
            teardown(driver, cinder, items)
        one = statistics.median(singles)
        items = prepared(driver, cinder, 10)
        threads = [threading.Thread(target=spawn, args=(driver, it)) for it in items]
        t = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        ten = time.monotonic() - t
        world = control(e, "GET", "/sim/world")
        active = [p for p in world["partitions"]
                  if any(it[0].uuid in p["name"] for it in items) and p["status"] == "active"]
        expect(len(active) == 10, "ten active partitions, saw %d" % len(active))
        teardown(driver, cinder, items)
    finally:
        control(e, "POST", "/sim/latency", {"hmc_ms": 0, "cinder_ms": 0})
    left = {k: v for k, v in control(e, "GET", "/sim/leaks").items() if v}
    expect(not left, "nothing left behind: %s" % left)
    ratio = ten / one
    print(json.dumps({"one_spawn_s": round(one, 3), "ten_spawns_s": round(ten, 3),
                      "ratio": round(ratio, 2), "limit": LIMIT}))
    expect(ratio <= LIMIT, "ten spawns at once took %.2f x one spawn (limit %.1f)" % (ratio, LIMIT))


if __name__ == "__main__":
    main()
