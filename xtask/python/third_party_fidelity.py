"""Third-party conformance of what other tools expect of an HMC (issue 17):
zhmcclient, unmodified, against `dpm-sim serve --world z16 --control-port 0`.

usage: third_party_fidelity.py ENDPOINTS_JSON

zhmcclient reads the console's properties (all, and one with
`pull_properties`, which must stay a partial set), pulls a property list of
the CPC and a partition (the reply must hold only those, or zhmcclient takes
it for the full set), lists storage volumes and VSRs with server-side
filters, reads a started partition's OS messages, hears partitions and
storage groups created and deleted (`inventory-change`), and meets the
statuses a CPC produces on its own (set through the control route): stop
from `terminated`, start and delete from `reservation-error`, and the
refusals. Exits non-zero on the first failed expectation.
"""
import json
import sys
import threading
import time
import urllib.request

import zhmcclient

from common import expect, hmc_session


class Inventory:
    """The inventory-change notifications a receiver heard, as (action,
    class, object-uri)."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.items = []
        self.lock = threading.Condition()
        self.stop = threading.Event()

    def run(self):
        for headers, _ in self.receiver.notifications(stop_event=self.stop):
            if headers.get("notification-type") == "inventory-change":
                with self.lock:
                    self.items.append((headers.get("action"), headers.get("class"),
                                       headers.get("object-uri")))
                    self.lock.notify_all()

    def wait_for(self, item, timeout=10):
        with self.lock:
            return self.lock.wait_for(lambda: item in self.items, timeout=timeout)

    def close(self):
        self.stop.set()
        self.receiver.close()


def set_status(e, partition, status):
    """POST /sim/partition-status; the HTTP status."""
    req = urllib.request.Request(
        e["control"]["url"] + "/sim/partition-status",
        data=json.dumps({"partition": partition.uri, "status": status}).encode(),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def refused(call, status, reason=None):
    try:
        call()
    except zhmcclient.HTTPError as err:
        return err.http_status == status and (reason is None or err.reason == reason)
    return False


def main(path):
    e = json.load(open(path))
    session = hmc_session(e)
    client = zhmcclient.Client(session)

    # The console.
    console = client.consoles.console
    console.pull_properties(["version"])
    version = client.query_api_version()
    expect(console.get_property("version") == version["hmc-version"] and not console.full_properties,
           "zhmcclient pulls the console's version alone (a partial set)")
    console.pull_full_properties()
    expect(console.name == version["hmc-name"] and console.get_property("paired-role") == ""
           and "ec-mcl-description" in console.properties,
           "zhmcclient reads the console's full property set")

    # properties= answered with exactly the named properties.
    cpc = client.cpcs.list()[0]
    cpc.pull_properties(["se-version", "dpm-enabled"])
    expect(not cpc.full_properties and cpc.get_property("dpm-enabled") is True,
           "a CPC property list comes back as a partial set")
    partition = cpc.partitions.create({
        "name": "tp-fidelity", "ifl-processors": 1, "initial-memory": 1024,
        "maximum-memory": 1024})
    partition = cpc.partitions.find(name="tp-fidelity")
    partition.pull_properties(["status"])
    expect(not partition.full_properties and partition.get_property("status") == "stopped",
           "a partition property list comes back as a partial set")
    partition.pull_properties(["status", "no-such-property"])
    expect(partition.full_properties,
           "a name the partition lacks (400.14) makes zhmcclient read the full set")

    # Inventory notifications.
    receiver = zhmcclient.NotificationReceiver(
        [session.object_topic], "127.0.0.1", session.session_id, session.session_credential,
        port=e["hmc"]["notification_port"], verify_cert=e["hmc"]["ca_cert"])
    heard = Inventory(receiver)
    threading.Thread(target=heard.run, daemon=True).start()
    for _ in range(500):
        if receiver.is_connected():
            break
        time.sleep(0.01)
    time.sleep(0.2)
    other = cpc.partitions.create({
        "name": "tp-inventory", "ifl-processors": 1, "initial-memory": 1024,
        "maximum-memory": 1024})
    expect(heard.wait_for(("add", "partition", other.uri)),
           "zhmcclient's NotificationReceiver hears a partition created (inventory-change add)")
    sg = client.consoles.console.storage_groups.create({
        "cpc-uri": cpc.uri, "name": "tp-filters", "type": "fcp", "shared": False,
        "connectivity": 2, "max-partitions": 1,
        "storage-volumes": [
            {"operation": "create", "name": "tp-boot", "size": 10.0, "usage": "boot"},
            {"operation": "create", "name": "tp-data-1", "size": 20.0, "usage": "data"},
            {"operation": "create", "name": "tp-data-2", "size": 30.0, "usage": "data"}]})
    expect(heard.wait_for(("add", "storage-group", sg.uri)),
           "... and a storage group created")

    # List filters, on the server.
    def names(**filters):
        return sorted(v.name for v in sg.storage_volumes.list(filter_args=filters))
    expect(names(usage="data") == ["tp-data-1", "tp-data-2"], "storage volumes by usage")
    expect(names(**{"minimum-size": 20, "maximum-size": 25}) == ["tp-data-1"],
           "storage volumes by minimum-size and maximum-size")
    expect(names(name="tp-.*-2") == ["tp-data-2"], "storage volumes by name")
    adapters = cpc.adapters.list(filter_args={"type": "fcp"})
    sg.add_candidate_adapter_ports([a.ports.list()[0] for a in adapters])
    partition.attach_storage_group(sg)
    vsrs = sg.virtual_storage_resources.list()
    expect(len(vsrs) == 2, "two VSRs")
    one = sg.virtual_storage_resources.list(filter_args={"name": vsrs[0].name})
    expect([v.uri for v in one] == [vsrs[0].uri], "VSRs by name")
    partition.detach_storage_group(sg)

    # OS messages.
    partition.start()
    messages = partition.list_os_messages()["os-messages"]
    expect(len(messages) >= 3 and messages[-1]["message-text"].endswith("login: "),
           "a started partition has its boot messages (list-os-messages)")
    later = partition.list_os_messages(begin=messages[-1]["sequence-number"])["os-messages"]
    expect(len(later) == 1, "list-os-messages from a sequence number")

    # Statuses a CPC produces on its own.
    expect(set_status(e, partition, "terminated") == 204, "the control route sets terminated")
    partition.pull_full_properties()
    expect(partition.get_property("status") == "terminated", "zhmcclient sees terminated")
    expect(refused(partition.start, 409, 1), "start from terminated is refused (409.1)")
    partition.stop()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "stopped", "stop from terminated")
    expect(set_status(e, partition, "reservation-error") == 204,
           "the control route sets reservation-error")
    expect(refused(partition.stop, 409, 1), "stop from reservation-error is refused (409.1)")
    partition.start()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "active", "start from reservation-error")
    expect(set_status(e, partition, "reservation-error") == 409,
           "a running partition does not go to reservation-error")
    partition.stop()
    set_status(e, partition, "reservation-error")
    partition.delete()
    expect(heard.wait_for(("remove", "partition", partition.uri)),
           "a partition in reservation-error is deleted, and its removal heard")

    sg.delete()
    expect(heard.wait_for(("remove", "storage-group", sg.uri)), "a storage group deleted is heard")
    other.delete()
    heard.close()
    session.logoff()
    print("third-party fidelity conformance: all passed")


if __name__ == "__main__":
    main(sys.argv[1])
