#!/usr/bin/env python3
"""Count the OS packages in a trivy JSON report (stdin); fail when there are none.

usage: trivy image --list-all-pkgs --format json IMAGE | count-os-packages.py IMAGE

trivy reports OS packages in results of Class "os-pkgs"; an image whose OS it does not detect
has no such result, and its vulnerability scan then passes having checked nothing.
"""
import json
import sys


def main():
    image = sys.argv[1] if len(sys.argv) > 1 else "the image"
    try:
        report = json.load(sys.stdin)
    except json.JSONDecodeError as err:
        sys.exit(f"scan: trivy's JSON report for {image} does not parse: {err}")
    os_info = (report.get("Metadata") or {}).get("OS") or {}
    packages = [p for r in report.get("Results") or [] if r.get("Class") == "os-pkgs"
                for p in r.get("Packages") or []]
    if not packages:
        sys.exit(f"scan: trivy detected no OS packages in {image} (OS: {os_info.get('Family') or 'not detected'}): "
                 "the vulnerability scan checked nothing; the image needs /etc/debian_version and "
                 "/var/lib/dpkg/status.d/ entries (docker/dpkg-metadata.sh)")
    print(f"scan: {len(packages)} OS package(s) scanned in {image} "
          f"({os_info.get('Family', '?')} {os_info.get('Name', '')}): "
          + ", ".join(sorted(f"{p.get('Name')} {p.get('Version')}" for p in packages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
