#!/usr/bin/env python3
"""python-tuf as a repository that evolves, and as a client that follows one.

Usage:
  tuf_stages.py repo OUT_DIR
  tuf_stages.py client --metadata-dir DIR --metadata-url URL --targets-url URL
                       --target-dir TDIR [TARGET ...]

`repo` writes one complete copy of the same repository per stage, each a directory with
metadata/ and targets/ (consistent snapshots, python-tuf's own serializer and names):

  stage-0  root v1, target a.txt
  stage-1  + target dir/b.txt (targets, snapshot, timestamp re-signed)
  stage-2  root key rotation: root v2 names a new root key, signed by the old and new keys
  stage-3  timestamp key rotation: root v3 names a new timestamp key
  stage-4  snapshot and timestamp re-signed (stage-3's timestamp is then a replay)
  expired-snapshot  stage-4 with a new snapshot that expired yesterday and a timestamp for it

and OUT_DIR/targets.json: {"<path>": "<sha256 hex>"} of every target of stage-4.

`client` is python-tuf's ngclient.Updater over HTTP with DIR as its metadata directory (it
must hold root.json already): it refreshes, then downloads each TARGET into TDIR. Exit 0
when everything succeeded, 1 on any error (its message on stderr).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

SERIALIZER = JSONSerializer()


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Repo:
    def __init__(self, work: Path) -> None:
        self.dir = work
        (work / "metadata").mkdir(parents=True)
        (work / "targets").mkdir()
        self.keys = {r: CryptoSigner.generate_ed25519() for r in ("root", "timestamp", "snapshot", "targets")}
        self.expires = now() + timedelta(days=30)
        root = Root(expires=self.expires, consistent_snapshot=True)
        for role, signer in self.keys.items():
            root.add_key(signer.public_key, role)
        self.root = Metadata(root)
        self.targets = Metadata(Targets(expires=self.expires))
        self.snapshot = Metadata(Snapshot(expires=self.expires))
        self.timestamp = Metadata(Timestamp(expires=self.expires))
        self.files: dict[str, bytes] = {}

    def write(self, name: str, md: Metadata) -> bytes:
        data = md.to_bytes(SERIALIZER)
        (self.dir / "metadata" / name).write_bytes(data)
        return data

    def sign_root(self, old_root_key: CryptoSigner | None = None) -> None:
        self.root.signatures.clear()
        if old_root_key is not None:
            self.root.sign(old_root_key, append=True)
        self.root.sign(self.keys["root"], append=True)
        self.write(f"{self.root.signed.version}.root.json", self.root)
        self.write("root.json", self.root)

    def add_target(self, path: str, data: bytes) -> None:
        self.targets.signed.targets[path] = TargetFile.from_data(path, data, ["sha256"])
        self.files[path] = data
        dirname, _, base = path.rpartition("/")
        d = self.dir / "targets" / dirname if dirname else self.dir / "targets"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{hashlib.sha256(data).hexdigest()}.{base}").write_bytes(data)
        (d / base).write_bytes(data)

    def publish_targets(self) -> None:
        self.targets.signed.version += 1
        self.targets.signatures.clear()
        self.targets.sign(self.keys["targets"])
        self.write(f"{self.targets.signed.version}.targets.json", self.targets)
        self.snapshot.signed.meta["targets.json"] = MetaFile(version=self.targets.signed.version)

    def publish_snapshot_and_timestamp(self, snapshot_expires: datetime | None = None) -> None:
        s = self.snapshot.signed
        s.version += 1
        s.expires = snapshot_expires or self.expires
        self.snapshot.signatures.clear()
        self.snapshot.sign(self.keys["snapshot"])
        data = self.write(f"{s.version}.snapshot.json", self.snapshot)
        t = self.timestamp.signed
        t.version += 1
        t.snapshot_meta = MetaFile(
            version=s.version,
            length=len(data),
            hashes={"sha256": hashlib.sha256(data).hexdigest()},
        )
        self.timestamp.signatures.clear()
        self.timestamp.sign(self.keys["timestamp"])
        self.write("timestamp.json", self.timestamp)

    def rotate(self, role: str) -> None:
        old = self.keys[role]
        new = CryptoSigner.generate_ed25519()
        self.root.signed.revoke_key(old.public_key.keyid, role)
        self.root.signed.add_key(new.public_key, role)
        self.keys[role] = new
        self.root.signed.version += 1
        self.sign_root(old_root_key=old if role == "root" else None)

    def save(self, out: Path, name: str) -> None:
        shutil.copytree(self.dir, out / name)


def make_repo(out: Path) -> None:
    repo = Repo(out / "work")
    repo.sign_root()
    repo.add_target("a.txt", b"target a\n")
    repo.publish_targets()
    repo.publish_snapshot_and_timestamp()
    repo.save(out, "stage-0")
    repo.add_target("dir/b.txt", b"target b, added in stage 1\n")
    repo.publish_targets()
    repo.publish_snapshot_and_timestamp()
    repo.save(out, "stage-1")
    repo.rotate("root")
    repo.publish_snapshot_and_timestamp()
    repo.save(out, "stage-2")
    repo.rotate("timestamp")
    repo.publish_snapshot_and_timestamp()
    repo.save(out, "stage-3")
    repo.publish_snapshot_and_timestamp()
    repo.save(out, "stage-4")
    repo.publish_snapshot_and_timestamp(snapshot_expires=now() - timedelta(days=1))
    repo.save(out, "expired-snapshot")
    shutil.rmtree(out / "work")
    listed = {p: hashlib.sha256(d).hexdigest() for p, d in repo.files.items()}
    (out / "targets.json").write_text(json.dumps(listed, sort_keys=True) + "\n")


def client(args: argparse.Namespace) -> int:
    from tuf.ngclient import Updater

    try:
        updater = Updater(
            metadata_dir=args.metadata_dir,
            metadata_base_url=args.metadata_url,
            target_base_url=args.targets_url,
            target_dir=args.target_dir,
            bootstrap=None,
        )
        updater.refresh()
        for name in args.targets:
            info = updater.get_targetinfo(name)
            if info is None:
                raise LookupError(f"target {name} not found")
            if updater.find_cached_target(info) is None:
                updater.download_target(info)
    except Exception as e:  # noqa: BLE001 - every failure is the client's refusal
        print(f"python-tuf: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("repo")
    r.add_argument("out", type=Path)
    c = sub.add_parser("client")
    c.add_argument("--metadata-dir", required=True)
    c.add_argument("--metadata-url", required=True)
    c.add_argument("--targets-url", required=True)
    c.add_argument("--target-dir", required=True)
    c.add_argument("targets", nargs="*")
    args = p.parse_args(argv)
    if args.cmd == "repo":
        make_repo(args.out)
        return 0
    return client(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
