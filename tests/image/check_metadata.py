#!/usr/bin/env python3
"""Check a FROM-scratch image's dpkg metadata against its files and its build stage.

usage: check_metadata.py ROOTFS BUILD_VERSIONS BUILD_MD5SUMS [OWN_FILE...]

ROOTFS          the image's exported root filesystem
BUILD_VERSIONS  lines "package<TAB>version<TAB>architecture" (dpkg-query -W in the build stage)
BUILD_MD5SUMS   lines "package<TAB>md5  path" (/var/lib/dpkg/info/*.md5sums in the build stage)
OWN_FILE        image paths built from this repository's sources (no package owns them)

Passes when /etc/debian_version is there, every status.d entry is an installed package at the
version and architecture the build stage has, every ELF file in the image but OWN_FILEs is
listed in exactly one package's .md5sums with its true md5sum, that md5sum is one the build
stage's package recorded, and every listed package has a file in the image (exactly the
packages whose files it contains). Prints one line per problem; exits 1 on any.
"""
import hashlib
import os
import sys

STATUS_DIR = "var/lib/dpkg/status.d"
# What `docker export` adds to every container's filesystem.
RUNTIME_FILES = {"/.dockerenv", "/etc/hostname", "/etc/hosts", "/etc/resolv.conf"}


def md5(path):
    with open(path, "rb") as fh:
        return hashlib.md5(fh.read()).hexdigest()


def is_elf(path):
    with open(path, "rb") as fh:
        return fh.read(4) == b"\x7fELF"


def stanza(path):
    fields = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line[:1] in (" ", "\t") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key.strip()] = value.strip()
    return fields


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    root, versions_file, md5s_file, own = sys.argv[1], sys.argv[2], sys.argv[3], set(sys.argv[4:])
    problems = []

    build_versions = {}
    with open(versions_file, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                build_versions[parts[0]] = (parts[1], parts[2])
    build_md5s = {}
    with open(md5s_file, encoding="utf-8") as fh:
        for line in fh:
            pkg, _, rest = line.rstrip("\n").partition("\t")
            build_md5s.setdefault(pkg.split(":")[0], set()).add(rest.split()[0] if rest.split() else "")
    if not build_versions or not build_md5s:
        sys.exit("check_metadata: the build stage's package lists are empty")

    if not os.path.isfile(os.path.join(root, "etc/debian_version")):
        problems.append("/etc/debian_version is missing: scanners do not detect the OS")
    status_dir = os.path.join(root, STATUS_DIR)
    names = sorted(os.listdir(status_dir)) if os.path.isdir(status_dir) else []
    if not names:
        problems.append(f"/{STATUS_DIR}/ is missing or empty: scanners see no OS package")

    listed = {}  # image path -> (package, md5)
    packages = {}
    for name in names:
        path = os.path.join(status_dir, name)
        if name.endswith(".md5sums"):
            pkg = name[: -len(".md5sums")]
            if not os.path.isfile(os.path.join(status_dir, pkg)):
                problems.append(f"{name} has no status entry {pkg}")
            with open(path, encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        continue
                    digest, _, file = line.strip().partition("  ")
                    image_path = "/" + file
                    if image_path in listed:
                        problems.append(f"{image_path} is listed by both {listed[image_path][0]} and {pkg}")
                    listed[image_path] = (pkg, digest)
            continue
        fields = stanza(path)
        packages[name] = fields
        if fields.get("Package") != name:
            problems.append(f"status.d/{name} describes package {fields.get('Package')!r}")
        if fields.get("Status") != "install ok installed":
            problems.append(f"status.d/{name}: Status is {fields.get('Status')!r}, not 'install ok installed'")
        built = build_versions.get(name)
        if built is None:
            problems.append(f"status.d/{name}: the build stage has no package {name}")
        elif (fields.get("Version"), fields.get("Architecture")) != built:
            problems.append(f"status.d/{name}: {fields.get('Version')} {fields.get('Architecture')} is not the "
                            f"build stage's {built[0]} {built[1]}")
        if not os.path.isfile(os.path.join(status_dir, name + ".md5sums")):
            problems.append(f"status.d/{name} has no {name}.md5sums listing its files in the image")

    files_of = {pkg: 0 for pkg in packages}
    elf_count = 0
    for base, _, files in os.walk(root):
        for file in files:
            full = os.path.join(base, file)
            image_path = "/" + os.path.relpath(full, root)
            if os.path.islink(full) or not os.path.isfile(full) or image_path in RUNTIME_FILES:
                continue
            if image_path in own or not is_elf(full):
                continue
            elf_count += 1
            if image_path not in listed:
                problems.append(f"{image_path} belongs to no listed package")
                continue
            pkg, digest = listed[image_path]
            files_of[pkg] = files_of.get(pkg, 0) + 1
            actual = md5(full)
            if actual != digest:
                problems.append(f"{image_path}: md5 {actual}, but {pkg}.md5sums says {digest}")
            if digest not in build_md5s.get(pkg, set()):
                problems.append(f"{image_path}: {pkg} in the build stage recorded no file with md5 {digest}")
    for image_path, (pkg, _) in sorted(listed.items()):
        if not os.path.isfile(os.path.join(root, image_path.lstrip("/"))):
            problems.append(f"{pkg}.md5sums lists {image_path}, which the image does not contain")
    for pkg, count in sorted(files_of.items()):
        if count == 0:
            problems.append(f"status.d lists {pkg}, but the image holds no ELF file of it")
    for own_file in sorted(own):
        if not os.path.isfile(os.path.join(root, own_file.lstrip("/"))):
            problems.append(f"{own_file} (built from source) is not in the image")

    for problem in problems:
        print(f"check_metadata: {problem}")
    if problems:
        print(f"check_metadata: FAIL ({len(problems)} problem(s))")
        return 1
    print(f"check_metadata: ok ({elf_count} ELF file(s) from {len(packages)} package(s): "
          + ", ".join(f"{p} {packages[p].get('Version')}" for p in sorted(packages)) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
