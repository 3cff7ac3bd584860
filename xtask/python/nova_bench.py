"""What a Nova boot costs on dpm.DPMDriver, against Nova's fake driver in
the same harness (nova_functional's), with 20 ms added to every HMC and
Cinder request: the time from POST /servers to ACTIVE, and the HMC and
Cinder requests of a boot, a hot attach, a detach and a delete, counted
by the simulator. Waits read Nova's API and the simulator's control
routes only, never Cinder or the HMC, so the counts are Nova's and the
driver's alone.

Run: DPM_SIM_ENDPOINTS=... DPM_SIM_WORLD=z16 DPM_NOVA_BENCH_OUT=out.json
     python -m unittest nova_bench
"""
# Nova's eventlet patching first (see nova_functional.py).
import nova.tests.functional  # noqa: F401  isort: skip

import json
import os
import statistics
import time

import fixtures

from nova.virt import fake

import nova_functional as nf

OUT = os.environ.get("DPM_NOVA_BENCH_OUT", "")
ROUNDS = int(os.environ.get("DPM_NOVA_BENCH_ROUNDS", "3"))


class FCFakeDriver(fake.FakeDriver):
    """Nova's fake driver with a Fibre Channel connector (its own has no
    WWPNs, which an FC backend refuses)."""

    def get_volume_connector(self, instance):
        c = super().get_volume_connector(instance)
        n = int(instance.uuid.replace("-", "")[-6:], 16)
        c["wwpns"] = ["c05076ffe5%06x" % n, "c05076ffe6%06x" % n]
        c["host"] = instance.uuid
        return c


def _record(name, result):
    if not OUT:
        return
    data = {}
    if os.path.exists(OUT):
        with open(OUT) as f:
            data = json.load(f)
    data[name] = result
    with open(OUT, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)


class _Bench:
    """The measurements, on whichever driver the test case loads."""

    def counted(self, action, done):
        """(seconds, HMC requests, Cinder requests) of one operation."""
        nf.control(self.e, "DELETE", "/sim/counters")
        t = time.monotonic()
        action()
        self.wait(done, "the operation to finish")
        took = time.monotonic() - t
        r = nf.control(self.e, "GET", "/sim/counters")["requests"]
        return took, r["hmc"], r["cinder"]

    def attached(self, vid, instance):
        return lambda: any(a["volume"] == vid and a["instance"] == instance
                           and a["status"] == "attached"
                           for a in nf.world(self.e)["attachments"])

    def detached(self, vid):
        return lambda: not any(a["volume"] == vid for a in nf.world(self.e)["attachments"])

    def active(self, sid):
        def ok():
            s = self.api.get_server(sid)
            self.assertNotEqual("ERROR", s["status"], s.get("fault"))
            return s["status"] == "ACTIVE" and s.get("OS-EXT-STS:task_state") is None
        return ok

    def gone_now(self, sid):
        def ok():
            try:
                self.api.get_server(sid)
            except nf.api_client.OpenStackApiNotFoundException:
                return True
            return False
        return ok

    def test_costs(self):
        rows = {"boot": [], "attach": [], "detach": [], "delete": []}
        vols = [(self.make_volume("root-%d" % i, 10, True),
                 self.make_volume("data-%d" % i, 5, False)) for i in range(ROUNDS)]
        nf.control(self.e, "POST", "/sim/latency", {"hmc_ms": 20, "cinder_ms": 20})
        self.addCleanup(nf.control, self.e, "POST", "/sim/latency",
                        {"hmc_ms": 0, "cinder_ms": 0})
        for boot, data in vols:
            sid = []
            rows["boot"].append(self.counted(
                lambda: sid.append(self.boot("bench", boot)["id"]),
                lambda: self.active(sid[0])()))
            sid = sid[0]
            rows["attach"].append(self.counted(
                lambda: self.api.post_server_volume(
                    sid, {"volumeAttachment": {"volumeId": data}}),
                self.attached(data, sid)))
            rows["detach"].append(self.counted(
                lambda: self.api.delete_server_volume(sid, data),
                lambda: self.detached(data)() and not self.api.get_server_volumes(sid)[1:]))
            rows["delete"].append(self.counted(
                lambda: self.api.delete_server(sid),
                lambda: self.gone_now(sid)() and self.detached(boot)()))
        result = {op: {"median_s": round(statistics.median(r[0] for r in rs), 3),
                       "hmc_requests": max(r[1] for r in rs),
                       "cinder_requests": max(r[2] for r in rs)}
                  for op, rs in rows.items()}
        _record("%s %s" % (nf.WORLD, self.LABEL), result)


class DPMDriverBench(_Bench, nf.DPMNovaTestCase):
    LABEL = "dpm.DPMDriver"


class FakeDriverBench(_Bench, nf.DPMNovaTestCase):
    LABEL = "fake driver"
    COMPUTE_DRIVER = "fake.FCFakeDriver"

    def setUp(self):
        self.useFixture(fixtures.MonkeyPatch("nova.virt.fake.FCFakeDriver", FCFakeDriver))
        super().setUp()
