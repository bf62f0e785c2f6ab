#!/usr/bin/env python3
"""Prints the platforms of an image reference as the registry holds it, through the registry
HTTP API (no docker CLI, no engine).

    scripts/image-platforms.py [--digests] [--require linux/amd64,linux/arm64] REGISTRY/REPO:TAG|@DIGEST

Output: one platform a line ("linux/arm64"), sorted; with --digests, "linux/arm64 sha256:..."
(the digest of that platform's image manifest). A manifest list / OCI index prints each entry
whose platform is known (attestation entries, "unknown/unknown", are left out); a single image
manifest prints the os/architecture its config blob records, and that is one platform only.

Exit codes: 0 printed (and --require met); 1 the registry could not be asked or has no such
reference; 2 bad usage; 3 --require names a platform the reference lacks (named on stderr).

Registry API (Docker docs, "Get image manifest", GET /v2/{name}/manifests/{reference}): "Use
the Accept header to select the manifest representation", among them
application/vnd.docker.distribution.manifest.list.v2+json and application/vnd.oci.image.index.v1+json.
A registry on 127.0.0.1 / localhost is spoken to over plain HTTP (REGISTRY_SCHEME overrides);
REGISTRY_BASIC_AUTH=user:password adds basic authentication (ECR accepts its
authorization token's AWS:password that way). The credentials go to the registry's host only,
never along a redirect to another host: ECR serves blobs by a 307 redirect to a pre-signed S3
URL, and S3 refuses a request that carries an Authorization header as well ("Only one auth
mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter
or the Authorization header should be specified", S3 error InvalidArgument; open-policy-agent/opa
#6728 "ECR serves OCI blobs by redirecting to S3 using pre-signed URLs").
"""
import argparse
import base64
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

INDEX_TYPES = (
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
)
IMAGE_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
)


class Failure(Exception):
    pass


class CredentialsStayOnHost(urllib.request.HTTPRedirectHandler):
    """Follows redirects, dropping the Authorization header when one leads to another host
    (urllib would send it along)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


OPENER = urllib.request.build_opener(CredentialsStayOnHost)


def parse_reference(ref):
    """Splits host/repo:tag or host/repo@digest into (host, repo, reference)."""
    if "/" not in ref:
        raise ValueError(f"{ref}: expected REGISTRY/REPOSITORY:TAG (the registry host is required)")
    host, rest = ref.split("/", 1)
    if not ("." in host or ":" in host or host == "localhost"):
        raise ValueError(f"{ref}: '{host}' is not a registry host (expected e.g. 127.0.0.1:5000/...)")
    if "@" in rest:
        # repo:tag@digest names the digest; the tag is only a label.
        repo, reference = rest.split("@", 1)
        if ":" in repo.rsplit("/", 1)[-1]:
            repo = repo.rsplit(":", 1)[0]
    elif ":" in rest.rsplit("/", 1)[-1]:
        repo, reference = rest.rsplit(":", 1)
    else:
        raise ValueError(f"{ref}: no tag or digest")
    if not repo or not reference:
        raise ValueError(f"{ref}: empty repository or tag")
    return host, repo, reference


def scheme_for(host):
    if os.environ.get("REGISTRY_SCHEME"):
        return os.environ["REGISTRY_SCHEME"]
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host
    return "http" if name in ("localhost", "[::1]") or name.startswith("127.") else "https"


def fetch(url, accept):
    request = urllib.request.Request(url, headers={"Accept": ", ".join(accept)})
    auth = os.environ.get("REGISTRY_BASIC_AUTH")
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with OPENER.open(request, timeout=20) as response:
            return response.headers, json.loads(response.read())
    except urllib.error.HTTPError as e:
        raise Failure(f"GET {url}: HTTP {e.code} {e.read()[:200].decode(errors='replace')}") from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise Failure(f"GET {url}: {e}") from e


def platforms(ref):
    """Returns [(platform, digest)] for the reference, sorted."""
    host, repo, reference = parse_reference(ref)
    base = f"{scheme_for(host)}://{host}/v2/{repo}"
    headers, manifest = fetch(f"{base}/manifests/{reference}", INDEX_TYPES + IMAGE_TYPES)
    media_type = manifest.get("mediaType") or headers.get("Content-Type", "")
    if media_type in INDEX_TYPES or "manifests" in manifest:
        found = []
        for entry in manifest.get("manifests", []):
            p = entry.get("platform") or {}
            if p.get("os", "unknown") == "unknown" or p.get("architecture", "unknown") == "unknown":
                continue
            name = f"{p['os']}/{p['architecture']}" + (f"/{p['variant']}" if p.get("variant") else "")
            found.append((name, entry["digest"]))
        return sorted(found)
    config_digest = manifest.get("config", {}).get("digest")
    if not config_digest:
        raise Failure(f"{ref}: the manifest has neither entries nor a config ({media_type})")
    _, config = fetch(f"{base}/blobs/{config_digest}", ("application/json", "*/*"))
    digest = headers.get("Docker-Content-Digest", reference)
    return [(f"{config.get('os', '?')}/{config.get('architecture', '?')}", digest)]


def normalise(platform):
    """linux/arm64/v8 names the same platform as linux/arm64."""
    return platform[: -len("/v8")] if platform.endswith("arm64/v8") else platform


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference")
    parser.add_argument("--digests", action="store_true", help="print each platform's manifest digest too")
    parser.add_argument("--require", default="", help="comma-separated platforms that must all be present")
    try:
        args = parser.parse_args()
    except SystemExit as e:
        return 2 if e.code else 0
    try:
        found = platforms(args.reference)
    except ValueError as e:
        print(f"image-platforms: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(f"image-platforms: {e}", file=sys.stderr)
        return 1
    for name, digest in found:
        print(f"{name} {digest}" if args.digests else name)
    have = {normalise(name) for name, _ in found}
    missing = [p for p in args.require.split(",") if p and normalise(p) not in have]
    if missing:
        print(f"image-platforms: {args.reference} holds {', '.join(sorted(have)) or 'nothing'}"
              f" but not {', '.join(missing)}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
