"""Fixtures of the API suite. tests/integration/api_test.sh starts berth (or
two nodes behind HAProxy: BERTH_TARGET=cluster) and runs pytest here with
API_BASE, API_CACERT, API_NODES and API_TARGET naming it (client.Registry).

Tests do not rely on each other's order: whatever a test needs in the
registry, a fixture pushes (pushing the same thing twice is harmless)."""

import json
import os

import pytest

from .client import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Registry, sha256


@pytest.fixture(scope="session")
def reg():
    return Registry.from_env()


def image_manifest(media_type, config_mt, config, layer_mt, layer, **extra):
    """An image manifest referencing the two blobs, indented (so stored bytes
    are not re-serialised JSON), with EXTRA top-level fields."""
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_mt, "digest": sha256(config), "size": len(config)},
        "layers": [{"mediaType": layer_mt, "digest": sha256(layer), "size": len(layer)}],
    }
    doc.update(extra)
    return json.dumps(doc, indent=2).encode() + b"\n"


def index_of(media_type, child_mt, child, **extra):
    """An index with one child."""
    doc = {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            {
                "mediaType": child_mt,
                "digest": sha256(child),
                "size": len(child),
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    doc.update(extra)
    return json.dumps(doc, indent=2).encode() + b"\n"


class Image:
    """The test image: an OCI config, a random 2 KiB layer and a manifest."""

    def __init__(self):
        config = {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
        self.config = json.dumps(config).encode()
        self.layer = os.urandom(2048)
        self.manifest = self.manifest_with(annotations={"org.opencontainers.image.title": "api test"})
        self.digest = sha256(self.manifest)

    def manifest_with(self, **extra):
        return image_manifest(OCI_MANIFEST, OCI_CONFIG, self.config, OCI_LAYER, self.layer, **extra)

    def push_blobs(self, reg, repo):
        reg.push_blob(repo, self.config)
        reg.push_blob(repo, self.layer)

    def push(self, reg, repo, *tags):
        """The blobs, then the manifest under each tag."""
        self.push_blobs(reg, repo)
        for t in tags:
            r = reg.put_manifest(repo, t, self.manifest, OCI_MANIFEST)
            assert r.status == 201, f"pushing the test image to {repo}:{t}\n{r}"


@pytest.fixture(scope="session")
def image():
    return Image()


@pytest.fixture(scope="session")
def img_repo(reg, image):
    """it/img holding the test image as v1."""
    image.push(reg, "it/img", "v1")
    return "it/img"


def padded_manifest(image, size):
    """A valid image manifest (the test image) padded with an annotation to
    exactly SIZE bytes."""
    compact = json.dumps(json.loads(image.manifest_with(annotations={"pad": ""})), separators=(",", ":")).encode()
    pad = size - len(compact)
    return compact.replace(b'"pad":""', b'"pad":"' + b"x" * pad + b'"')


@pytest.fixture(scope="session")
def max_manifest(image):
    """The largest manifest berth takes: 4 MiB."""
    return padded_manifest(image, 4194304)
