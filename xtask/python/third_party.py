"""Third-party conformance: the public Python clients zhmcclient and
python-cinderclient, unmodified, against `dpm-sim serve`.

usage: third_party.py ENDPOINTS_JSON

zhmcclient logs on (verifying the simulator's CA), lists CPCs, FCP adapters
and their ports, creates a partition and a vHBA; cinderclient (through
keystoneauth1) creates a volume from an image and runs an attachment through
create, update with the vHBA's WWPN, and complete; zhmcclient then sets the
boot properties from the connection info, starts the partition (the
simulator's boot check must pass), stops it and deletes it; cinderclient
deletes the attachment, then runs the legacy actions (reserve, attach,
begin_detaching, detach with a null attachment id). Exits non-zero on the first failed expectation.
"""
import json
import sys
import threading
import time

import zhmcclient

from common import cinder, expect, hmc_session, image_volume


class Heard:
    """What a NotificationReceiver heard, as (notification-type, URI) pairs."""

    def __init__(self, receiver):
        self.receiver = receiver
        self.items = set()
        self.lock = threading.Condition()
        self.stop = threading.Event()

    def run(self):
        for headers, message in self.receiver.notifications(stop_event=self.stop):
            kind = headers.get("notification-type")
            uri = headers.get("job-uri") or headers.get("object-uri")
            with self.lock:
                self.items.add((kind, uri))
                self.lock.notify_all()

    def wait_for(self, cond, timeout=10):
        with self.lock:
            return self.lock.wait_for(lambda: cond(self.items), timeout=timeout)

    def close(self):
        self.stop.set()
        self.receiver.close()


def listen(e, session):
    """A receiver on the session's job and object topics, listening in a
    thread once it is connected."""
    receiver = zhmcclient.NotificationReceiver(
        [session.job_topic, session.object_topic], "127.0.0.1",
        session.session_id, session.session_credential,
        port=e["hmc"]["notification_port"], verify_cert=e["hmc"]["ca_cert"])
    heard = Heard(receiver)
    threading.Thread(target=heard.run, daemon=True).start()
    for _ in range(500):
        if receiver.is_connected():
            break
        time.sleep(0.01)
    expect(receiver.is_connected(), "zhmcclient's NotificationReceiver connects to the notification service")
    # The subscriptions go out right after the connect.
    time.sleep(0.2)
    return heard


def main(path):
    e = json.load(open(path))
    session = hmc_session(e)
    client = zhmcclient.Client(session)
    cpcs = client.cpcs.list()
    expect(len(cpcs) == 1 and cpcs[0].name == e["cpc"]["name"], "zhmcclient lists the CPC")
    cpc = cpcs[0]
    expect(cpc.dpm_enabled, "the CPC is in DPM mode")
    # An HMC before API 4.10 answers list-features with 404.1: no features.
    expect(not client.consoles.console.api_feature_enabled("dpm-ctc-partition-link-management"),
           "zhmcclient api_feature_enabled reads an older HMC's 404.1 as no features")
    adapters = cpc.adapters.list(filter_args={"type": "fcp"})
    expect(len(adapters) == len(e["fcp_adapters"]), "zhmcclient lists the FCP adapters")
    ports = adapters[0].ports.list()
    expect(len(ports) >= 1, "zhmcclient lists the adapter's storage ports")

    partition = cpc.partitions.create({
        "name": "third-party-1", "description": "zhmcclient conformance",
        "ifl-processors": 1, "initial-memory": 1024, "maximum-memory": 1024})
    expect(partition.get_property("status") == "stopped", "zhmcclient creates a stopped partition")
    hba = partition.hbas.create({"name": "hba0", "adapter-port-uri": ports[0].uri})
    wwpn = hba.get_property("wwpn")
    hba.update_properties({"name": "hba-renamed", "device-number": "5a00"})
    hba.pull_full_properties()
    expect(hba.get_property("name") == "hba-renamed" and hba.get_property("device-number") == "5a00",
           "zhmcclient updates the vHBA's name and device number")
    partition.update_properties({"name": "third-party-renamed"})
    partition.update_properties({"name": "third-party-1"})
    partition.pull_full_properties()
    expect(partition.get_property("name") == "third-party-1", "zhmcclient renames the partition (and back)")
    assigned = [p.name for p in adapters[0].list_assigned_partitions()]
    expect(assigned == ["third-party-1"], "the adapter lists the partition its vHBA is on")
    expect(len(wwpn) == 16, "the vHBA has a 16-hex-digit WWPN")

    cinder_api = cinder(e)
    volume = image_volume(cinder_api, e, "tp-boot")
    expect(volume.status == "available" and volume.bootable == "true", "cinderclient creates a bootable volume")
    attachment = cinder_api.attachments.create(volume.id, None, instance_id="8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63")
    expect(cinder_api.volumes.get(volume.id).status == "reserved", "attachment create reserves the volume")
    connector = {"wwpns": [wwpn], "wwnns": [wwpn], "host": "third-party", "platform": "s390x",
                 "os_type": "linux", "multipath": False}
    updated = cinder_api.attachments.update(attachment["id"], connector)
    info = updated.connection_info if hasattr(updated, "connection_info") else updated["connection_info"]
    expect(info.get("driver_volume_type") == "fibre_channel", "attachment update returns FC connection info")
    # Storwize's answer to a partition that has not started (no fabric
    # login): every storage port, all-to-all; the first is on this vHBA's
    # fabric in this world.
    expect(info["initiator_target_map"][wwpn] == info["target_wwn"] and len(info["target_wwn"]) == 4,
           "the map lists every storage port before the partition logs in")
    target = info["initiator_target_map"][wwpn][0]
    lun = int(info["target_lun"])
    cinder_api.attachments.complete(attachment["id"])
    expect(cinder_api.volumes.get(volume.id).status == "in-use", "attachment complete puts the volume in use")

    # Boot from the LUN: the simulator's boot check must pass.
    lun_hex = "%04x000000000000" % lun
    partition.update_properties({"boot-device": "storage-adapter", "boot-storage-device": hba.uri,
                                 "boot-world-wide-port-name": target, "boot-logical-unit-number": lun_hex})
    # zhmcclient's NotificationReceiver, logged in with the session's id
    # and credential, hears the start job's completion on the session's job
    # topic, and the partition's status changes on its object topic.
    heard = listen(e, session)
    job = partition.start(wait_for_completion=False)
    job.wait_for_completion()
    expect(heard.wait_for(lambda h: ("job-completion", job.uri) in h),
           "zhmcclient's NotificationReceiver hears the start job's completion")
    expect(heard.wait_for(lambda h: ("status-change", partition.uri) in h),
           "zhmcclient's NotificationReceiver hears the partition's status change")
    heard.close()
    partition.pull_properties(["status"])
    expect(partition.get_property("status") == "active", "zhmcclient boots the partition from the LUN")
    expect(partition.get_property("boot-logical-unit-number") == lun_hex,
           "pull_properties (properties=status) keeps what it had")
    partition.stop()
    partition.pull_full_properties()
    expect(partition.get_property("status") == "stopped", "zhmcclient stops the partition")
    partition.delete()
    expect(not cpc.partitions.list(filter_args={"name": "third-party-1"}), "zhmcclient deletes the partition")

    cinder_api.attachments.delete(attachment["id"])
    expect(cinder_api.volumes.get(volume.id).status == "available", "attachment delete frees the volume")

    # The legacy actions as cinderclient sends them: null bodies, and a
    # detach whose attachment id is null (the volume's only attachment).
    cinder_api.volumes.reserve(volume)
    expect(cinder_api.volumes.get(volume.id).status == "attaching", "os-reserve (null body) reserves")
    cinder_api.volumes.attach(volume, "8b2c66c1-4b3f-4bb5-bf3b-1f6fbdcfdc63", "/dev/sdb")
    expect(cinder_api.volumes.get(volume.id).status == "in-use", "os-attach puts the volume in use")
    cinder_api.volumes.begin_detaching(volume)
    expect(cinder_api.volumes.get(volume.id).status == "detaching", "os-begin_detaching (null body)")
    cinder_api.volumes.detach(volume)
    expect(cinder_api.volumes.get(volume.id).status == "available",
           "os-detach with a null attachment id detaches the only attachment")
    cinder_api.volumes.delete(volume.id)
    session.logoff()
    print("third-party conformance: all passed")


if __name__ == "__main__":
    main(sys.argv[1])
