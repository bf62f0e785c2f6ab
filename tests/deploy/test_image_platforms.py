#!/usr/bin/env python3
"""scripts/image-platforms.py against a registry that behaves like ECR for blobs: the config
blob of a single-platform image is a 307 redirect to a pre-signed URL on another host, and
that host (S3's part) refuses a request that also carries an Authorization header ("Only one
auth mechanism allowed", S3 error InvalidArgument). Debian's docker-registry serves blobs
itself, so test-deploy's registry cannot show this.

Both servers listen on 127.0.0.1 on ports the kernel picks.
"""
import http.server
import json
import os
import subprocess
import sys
import threading
import unittest

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "image-platforms.py")
CONFIG_DIGEST = "sha256:" + "c" * 64
CONFIG = {"os": "linux", "architecture": "arm64"}
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG_DIGEST, "size": 2},
    "layers": [],
}


def serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, content_type="application/json", extra=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class ImagePlatformsRedirects(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.seen = {"registry": [], "storage": []}
        seen = cls.seen

        class Storage(Quiet):
            def do_GET(self):
                auth = self.headers.get("Authorization")
                seen["storage"].append(auth)
                if auth:
                    self.reply(400, {"Code": "InvalidArgument", "Message": "Only one auth mechanism allowed"})
                else:
                    self.reply(200, CONFIG)

        cls.storage = serve(Storage)
        storage_url = f"http://127.0.0.1:{cls.storage.server_address[1]}/layer?X-Amz-Algorithm=AWS4-HMAC-SHA256"

        class Registry(Quiet):
            def do_GET(self):
                seen["registry"].append(self.headers.get("Authorization"))
                if self.path == "/v2/app/manifests/v1":
                    self.reply(200, MANIFEST, MANIFEST["mediaType"], [("Docker-Content-Digest", "sha256:" + "a" * 64)])
                elif self.path == f"/v2/app/blobs/{CONFIG_DIGEST}":
                    self.send_response(307)
                    self.send_header("Location", storage_url)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self.reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN"}]})

        cls.registry = serve(Registry)
        cls.ref = f"127.0.0.1:{cls.registry.server_address[1]}/app:v1"

    @classmethod
    def tearDownClass(cls):
        cls.registry.shutdown()
        cls.storage.shutdown()

    def run_script(self, *args):
        env = dict(os.environ, REGISTRY_BASIC_AUTH="AWS:token")
        return subprocess.run([sys.executable, SCRIPT, *args], env=env, capture_output=True, text=True, timeout=60)

    def test_single_platform_image_behind_a_redirect_is_read(self):
        result = self.run_script(self.ref)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, "linux/arm64\n")

    def test_credentials_go_to_the_registry_but_not_along_the_redirect(self):
        self.run_script(self.ref)
        self.assertTrue(self.seen["registry"] and all(a and a.startswith("Basic ") for a in self.seen["registry"]))
        self.assertIn(None, self.seen["storage"])
        self.assertNotIn("Basic QVdTOnRva2Vu", self.seen["storage"])

    def test_missing_reference_exits_1(self):
        result = self.run_script(self.ref.replace(":v1", ":v2"))
        self.assertEqual(result.returncode, 1)
        self.assertIn("HTTP 404", result.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
