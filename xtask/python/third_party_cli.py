"""Third-party conformance: zhmccli (the `zhmc` command), unmodified,
against `dpm-sim serve` on a z13 whose HMC listens on 6794 (zhmccli has no
port option).

usage: third_party_cli.py ENDPOINTS_JSON ZHMC_EXECUTABLE

Creates a partition and a vHBA with zhmccli and checks what `zhmc
partition list` (the console's list-permitted-partitions), `partition
show`, `adapter list` and `hba list` print; then deletes the partition.
Exits non-zero on the first failed expectation.
"""
import json
import os
import subprocess
import sys

from common import expect


def main(path, zhmc_exe):
    e = json.load(open(path))
    host, _, port = e["hmc"]["url"].removeprefix("https://").partition(":")
    expect(port == "6794", "the HMC listens on 6794, as zhmccli needs")
    env = dict(os.environ, ZHMC_HOST=host, ZHMC_USERID=e["hmc"]["userid"],
               ZHMC_PASSWORD=e["hmc"]["password"], ZHMC_CA_CERTS=e["hmc"]["ca_cert"])
    cpc = e["cpc"]["name"]

    def zhmc(*args):
        r = subprocess.run([zhmc_exe, "-o", "json", *args], env=env, capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            print(f"FAILED: zhmc {' '.join(args)}: {r.stderr.strip()}")
            sys.exit(1)
        return r.stdout

    zhmc("partition", "create", cpc, "--name", "cli-1", "--ifl-processors", "1",
         "--initial-memory", "1024", "--maximum-memory", "1024")
    rows = json.loads(zhmc("partition", "list"))
    names = [r.get("name") for r in rows]
    expect("cli-1" in names, "zhmc partition list (list-permitted-partitions) shows it")
    row = next(r for r in rows if r.get("name") == "cli-1")
    expect(row.get("status") == "stopped", "the listed partition is stopped")
    shown = json.loads(zhmc("partition", "show", cpc, "cli-1"))
    expect(shown.get("name") == "cli-1" and shown.get("ifl-processors") == 1,
           "zhmc partition show prints its properties")
    adapters = json.loads(zhmc("adapter", "list", cpc))
    fcp = [a for a in adapters if a.get("type") == "fcp"]
    expect(len(fcp) == len(e["fcp_adapters"]), "zhmc adapter list shows the FCP adapters")
    zhmc("hba", "create", cpc, "cli-1", "--name", "h1", "--adapter", fcp[0]["name"], "--port", "Port 0")
    hbas = json.loads(zhmc("hba", "list", cpc, "cli-1"))
    expect([h.get("name") for h in hbas] == ["h1"], "zhmc hba list shows the vHBA")
    zhmc("partition", "delete", cpc, "cli-1", "--yes")
    rows = json.loads(zhmc("partition", "list"))
    expect("cli-1" not in [r.get("name") for r in rows], "zhmc partition delete removes it")
    print("third-party zhmccli conformance: all passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
