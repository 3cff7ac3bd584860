"""Times N sequential partition create + vHBA create + partition delete
cycles through zhmcclient against `dpm-sim serve`.

usage: bench_zhmcclient.py ENDPOINTS_JSON N
prints: the median and total seconds, as JSON.
"""
import json
import sys
import time

import zhmcclient


def main(path, n):
    e = json.load(open(path))
    host, port = e["hmc"]["url"].split("//")[1].split(":")
    session = zhmcclient.Session(host, e["hmc"]["userid"], e["hmc"]["password"],
                                 port=int(port), verify_cert=e["hmc"]["ca_cert"])
    client = zhmcclient.Client(session)
    cpc = client.cpcs.find(name=e["cpc"]["name"])
    port_uri = cpc.adapters.list(filter_args={"type": "fcp"})[0].ports.list()[0].uri
    times = []
    start = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        p = cpc.partitions.create({"name": "bench-zhmc-%d" % i, "ifl-processors": 1,
                                   "initial-memory": 1024, "maximum-memory": 1024})
        p.hbas.create({"name": "hba0", "adapter-port-uri": port_uri})
        p.delete()
        times.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    session.logoff()
    times.sort()
    print(json.dumps({"cycles": n, "median_s": times[len(times) // 2], "total_s": total}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
