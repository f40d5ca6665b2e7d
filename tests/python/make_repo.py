#!/usr/bin/env python3
"""Generate TUF 1.0 scenario repositories with python-tuf (the reference implementation).

Usage: make_repo.py OUT_DIR

Writes one independent repository per scenario under OUT_DIR/<scenario>/:

  metadata/  1.root.json .. N.root.json, root.json (newest root), timestamp.json,
             <V>.snapshot.json, <V>.targets.json, <V>.<role>.json (consistent snapshot)
             and the unversioned copies snapshot.json, targets.json, <role>.json.
  targets/   every target file as dir/<sha256hex>.<basename> and as dir/<basename>.
  expected.json  what a correct client must resolve and what it must not.

plus OUT_DIR/index.json listing the scenarios. All metadata expires at EXPIRES, so tests can
use any fixed `now` before it. Metadata is written with python-tuf's default JSONSerializer
(indented, sorted keys): verifiers must check signatures over the canonical form of what they
parse, not over the file bytes. Keys are generated fresh on every run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from securesystemslib.signer import CryptoSigner, Signer
from tuf.api.metadata import (
    SPECIFICATION_VERSION,
    DelegatedRole,
    Delegations,
    Metadata,
    MetaFile,
    Role,
    Root,
    Snapshot,
    SuccinctRoles,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

EXPIRES = datetime(2040, 1, 1, tzinfo=timezone.utc)
EXPIRES_STR = "2040-01-01T00:00:00Z"
SPEC_VERSION = ".".join(SPECIFICATION_VERSION)
SERIALIZER = JSONSerializer()  # python-tuf's default: pretty, indent=1, sorted keys

# Versions deliberately differ per role, so a reader that assumes "1" or one shared
# version for every file fails.
TARGETS_VERSION = 2
SNAPSHOT_VERSION = 3
TIMESTAMP_VERSION = 4


def ed25519() -> CryptoSigner:
    return CryptoSigner.generate_ed25519()


def ecdsa() -> CryptoSigner:
    return CryptoSigner.generate_ecdsa()


def rsa(bits: int) -> CryptoSigner:
    return CryptoSigner.generate_rsa(size=bits)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Scenario:
    """One repository under construction: roots, targets, delegated roles, files."""

    def __init__(self, out: Path, name: str, notes: str) -> None:
        self.name = name
        self.dir = out / name
        self.notes = notes
        self.meta_dir = self.dir / "metadata"
        self.targets_dir = self.dir / "targets"
        self.meta_dir.mkdir(parents=True)
        self.targets_dir.mkdir(parents=True)
        self.root_versions = 0
        self.consistent_snapshot = True
        self.all_keys: list[Signer] = []
        self.top_signers: dict[str, list[Signer]] = {}
        self.targets = Metadata(Targets(version=TARGETS_VERSION, expires=EXPIRES))
        # delegated role name -> (metadata, signers); insertion order is write order
        self.delegated: dict[str, tuple[Metadata[Targets], list[Signer]]] = {}
        self.expected: dict[str, dict[str, Any]] = {}
        self.not_found: list[str] = []
        self.snapshot_meta_hashes = False
        # unknown fields added to every MetaFile in snapshot and timestamp
        self.meta_extras: dict[str, Any] = {}

    # -- keys and roots -------------------------------------------------------------------

    def new_root(
        self,
        role_keys: dict[str, list[Signer]],
        thresholds: dict[str, int] | None = None,
    ) -> Metadata[Root]:
        """Unsigned root of the next version carrying `role_keys` for the top-level roles."""
        root = Root(
            version=self.root_versions + 1,
            expires=EXPIRES,
            consistent_snapshot=self.consistent_snapshot,
            roles={r: Role([], (thresholds or {}).get(r, 1)) for r in role_keys},
        )
        for role, signers in role_keys.items():
            for s in signers:
                root.add_key(s.public_key, role)
                self.all_keys.append(s)
        self.top_signers = {r: list(s) for r, s in role_keys.items()}
        return Metadata(root)

    def publish_root(self, root: Metadata[Root], signers: list[Signer]) -> None:
        for s in signers:
            root.sign(s, append=True)
        assert root.signed.version == self.root_versions + 1
        self.root_versions = root.signed.version
        self._write(f"{self.root_versions}.root.json", root)
        self._write("root.json", root)

    # -- targets ------------------------------------------------------------------------

    def role_md(self, role: str) -> Metadata[Targets]:
        return self.targets if role == "targets" else self.delegated[role][0]

    def add_delegated(self, name: str, signers: list[Signer]) -> Metadata[Targets]:
        md = Metadata(Targets(version=1, expires=EXPIRES))
        self.delegated[name] = (md, signers)
        for s in signers:
            self.all_keys.append(s)
        return md

    def delegate(
        self, parent: str, roles: list[tuple[str, Signer, bool, dict[str, list[str]]]]
    ) -> None:
        """Give `parent` delegations to new one-key roles (name, key, terminating, paths or
        path_hash_prefixes); list order is search order."""
        for name, signer, _, _ in roles:
            self.add_delegated(name, [signer])
        self.role_md(parent).signed.delegations = Delegations(
            keys={s.public_key.keyid: s.public_key for _, s, _, _ in roles},
            roles={
                name: DelegatedRole(name, [s.public_key.keyid], 1, terminating, **match)
                for name, s, terminating, match in roles
            },
        )

    def add_target(
        self,
        path: str,
        data: bytes,
        role: str = "targets",
        algs: tuple[str, ...] = ("sha256",),
        custom: Any = None,
        expect_found: bool = True,
    ) -> None:
        """List `path` in `role`'s metadata and store the file under both names.

        With expect_found=False the target is listed but must NOT resolve (the role is
        not trusted for that path): it goes to not_found.
        """
        info = TargetFile.from_data(path, data, list(algs))
        if custom is not None:
            info.unrecognized_fields["custom"] = custom
        self.role_md(role).signed.targets[path] = info
        self.store_file(path, data)
        if expect_found:
            self.expected[path] = {
                "length": len(data),
                "sha256": sha256_hex(data),
                "role": role,
            }
        else:
            self.not_found.append(path)

    def store_file(self, path: str, data: bytes) -> None:
        dirname, _, base = path.rpartition("/")
        d = self.targets_dir / dirname if dirname else self.targets_dir
        d.mkdir(parents=True, exist_ok=True)
        (d / base).write_bytes(data)
        (d / f"{sha256_hex(data)}.{base}").write_bytes(data)

    # -- publishing ---------------------------------------------------------------------

    def _write(self, filename: str, md: Metadata) -> bytes:
        data = md.to_bytes(SERIALIZER)
        (self.meta_dir / filename).write_bytes(data)
        return data

    def _write_versioned(self, role: str, md: Metadata) -> MetaFile:
        data = self._write(f"{md.signed.version}.{role}.json", md)
        self._write(f"{role}.json", md)
        mf = MetaFile(version=md.signed.version, unrecognized_fields=dict(self.meta_extras))
        if self.snapshot_meta_hashes:
            mf.length = len(data)
            mf.hashes = {"sha256": sha256_hex(data), "sha512": hashlib.sha512(data).hexdigest()}
        return mf

    def finish(self, timestamp_signers: list[Signer] | None = None) -> dict[str, Any]:
        meta: dict[str, MetaFile] = {}
        for name, (md, signers) in self.delegated.items():
            for s in signers:
                md.sign(s, append=True)
            meta[f"{name}.json"] = self._write_versioned(name, md)
        for s in self.top_signers["targets"]:
            self.targets.sign(s, append=True)
        meta["targets.json"] = self._write_versioned("targets", self.targets)

        snapshot = Metadata(Snapshot(version=SNAPSHOT_VERSION, expires=EXPIRES, meta=meta))
        for s in self.top_signers["snapshot"]:
            snapshot.sign(s, append=True)
        snap_meta = self._write_versioned("snapshot", snapshot)

        timestamp = Metadata(
            Timestamp(version=TIMESTAMP_VERSION, expires=EXPIRES, snapshot_meta=snap_meta)
        )
        for s in timestamp_signers or self.top_signers["timestamp"]:
            timestamp.sign(s, append=True)
        self._write("timestamp.json", timestamp)

        expected = {
            "targets": self.expected,
            "not_found": self.not_found,
            "root_versions": self.root_versions,
            "key_types": sorted({s.public_key.keytype for s in self.all_keys}),
            "schemes": sorted({s.public_key.scheme for s in self.all_keys}),
            "consistent_snapshot": self.consistent_snapshot,
            "expires": EXPIRES_STR,
            "notes": self.notes,
        }
        (self.dir / "expected.json").write_text(
            json.dumps(expected, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        return expected


def simple_scenario(
    out: Path,
    name: str,
    notes: str,
    keys: dict[str, list[Signer]],
    thresholds: dict[str, int] | None = None,
    root_signers: list[Signer] | None = None,
) -> Scenario:
    sc = Scenario(out, name, notes)
    root = sc.new_root(keys, thresholds)
    sc.publish_root(root, root_signers if root_signers is not None else keys["root"])
    return sc


def one_key_each(make) -> dict[str, list[Signer]]:  # noqa: ANN001
    return {r: [make()] for r in ("root", "timestamp", "snapshot", "targets")}


# --- scenarios -------------------------------------------------------------------------


def ed25519_basic(out: Path) -> dict[str, Any]:
    sc = simple_scenario(
        out,
        "ed25519-basic",
        "One ed25519 key per top-level role. Target hashes are sha256+sha512. timestamp and "
        "snapshot meta carry length and sha256+sha512 hashes too. One target sits in a "
        "subdirectory, one has a space and non-ASCII characters in its name.",
        one_key_each(ed25519),
    )
    sc.snapshot_meta_hashes = True
    algs = ("sha256", "sha512")
    sc.add_target("hello.txt", b"hello, world\n", algs=algs)
    sc.add_target("dir/sub/file.txt", b"a file in a subdirectory\n", algs=algs)
    sc.add_target("docs/na\u00efve caf\u00e9 \u2713.txt", "non-ASCII \u00e9\n".encode(), algs=algs)
    sc.not_found += ["missing.txt", "dir/file.txt", "dir/sub"]
    return sc.finish()


def ecdsa_scenario(out: Path) -> dict[str, Any]:
    sc = simple_scenario(
        out,
        "ecdsa",
        "All roles ECDSA P-256 (ecdsa-sha2-nistp256): keyval.public is a PEM "
        "SubjectPublicKeyInfo, signatures are DER-encoded (r, s) over SHA-256.",
        one_key_each(ecdsa),
    )
    sc.add_target("one.bin", bytes(range(256)))
    sc.add_target("two/two.txt", b"two\n")
    sc.not_found.append("three.txt")
    return sc.finish()


def rsa_scenario(out: Path) -> dict[str, Any]:
    keys = {"root": [rsa(3072)], "timestamp": [rsa(2048)], "snapshot": [rsa(2048)],
            "targets": [rsa(3072)]}
    sc = simple_scenario(
        out,
        "rsa",
        "All roles RSA, scheme rsassa-pss-sha256 (PSS, MGF1-SHA256, salt length = digest "
        "length 32): root and targets 3072 bits, snapshot and timestamp 2048 bits; "
        "keyval.public is a PEM SubjectPublicKeyInfo.",
        keys,
    )
    sc.add_target("rsa-a.txt", b"rsa a\n")
    sc.add_target("rsa/b.txt", b"rsa b\n")
    sc.not_found.append("rsa/c.txt")
    return sc.finish()


def mixed_threshold(out: Path) -> dict[str, Any]:
    r_ed, r_ec, r_rsa = ed25519(), ecdsa(), rsa(2048)
    t_ed, t_ec = ed25519(), ecdsa()
    keys = {"root": [r_ed, r_ec, r_rsa], "timestamp": [ed25519()], "snapshot": [ed25519()],
            "targets": [t_ed, t_ec]}
    stranger = ed25519()  # signs root but is listed nowhere: must be ignored
    sc = simple_scenario(
        out,
        "mixed-threshold",
        "Root threshold 2 of 3 keys (ed25519, ecdsa, rsa); root is signed by the ecdsa and "
        "rsa keys only (threshold met exactly) plus one signature by a key that is in no "
        "keys dict (must be ignored, not fail). targets threshold 2 of 2 (ed25519 + ecdsa), "
        "signed by both.",
        keys,
        thresholds={"root": 2, "targets": 2},
        root_signers=[r_ec, r_rsa, stranger],
    )
    sc.add_target("mixed-1.txt", b"mixed one\n")
    sc.add_target("mixed/2.txt", b"mixed two\n")
    sc.not_found.append("mixed/3.txt")
    return sc.finish()


def delegations(out: Path) -> dict[str, Any]:
    sc = simple_scenario(
        out,
        "delegations",
        "targets delegates, in order: team-a (paths a/* and a/sub/*, ed25519, non-terminating), "
        "team-b (paths b/*.txt, ecdsa, terminating), team-c (paths b/*, ed25519). team-a "
        "delegates team-a-sub (paths a/sub/*). Path patterns: '*' never matches '/', so "
        "team-a needs a/sub/* to be consulted for a/sub/y.txt at all. Several not_found "
        "paths ARE listed by a role and stored in targets/, but the delegation chain does not "
        "trust that role for them: a/sub/deeper/q.txt (listed by team-a-sub; '*' must not "
        "match '/'), b/w.bin (listed by team-b; b/*.txt does not match), b/t.txt (listed by "
        "team-c, but team-b matches first and is terminating), c/none.txt (listed nowhere).",
        one_key_each(ed25519),
    )
    sc.delegate("targets", [
        ("team-a", ed25519(), False, {"paths": ["a/*", "a/sub/*"]}),
        ("team-b", ecdsa(), True, {"paths": ["b/*.txt"]}),
        ("team-c", ed25519(), False, {"paths": ["b/*"]}),
    ])
    sc.delegate("team-a", [("team-a-sub", ed25519(), False, {"paths": ["a/sub/*"]})])
    sc.add_target("a/x.txt", b"team a\n", role="team-a")
    sc.add_target("a/sub/y.txt", b"team a sub\n", role="team-a-sub")
    sc.add_target("b/z.txt", b"team b\n", role="team-b")
    sc.add_target("a/sub/deeper/q.txt", b"too deep\n", role="team-a-sub", expect_found=False)
    sc.add_target("b/w.bin", b"wrong extension\n", role="team-b", expect_found=False)
    sc.add_target("b/t.txt", b"shadowed by terminating team-b\n", role="team-c",
                  expect_found=False)
    sc.not_found.append("c/none.txt")
    return sc.finish()


def path_hash(path: str) -> str:
    return sha256_hex(path.encode("utf-8"))


def hash_prefixes(out: Path) -> dict[str, Any]:
    sc = simple_scenario(
        out,
        "hash-prefixes",
        "targets delegates hp-1 and hp-2 with path_hash_prefixes (prefixes of the lowercase "
        "hex sha256 of the UTF-8 target PATH, not of the file contents) instead of paths. "
        "hp-1 has a 2-hex-digit prefix, hp-2 a 3-digit one. not_found lists a path that hp-1 "
        "lists in its metadata although its path hash matches no prefix of hp-1.",
        one_key_each(ed25519),
    )
    p1, p2 = "hashed/first.txt", "hashed/second.txt"
    pre1, pre2 = path_hash(p1)[:2], path_hash(p2)[:3]
    # a path that neither prefix covers (deterministic search)
    stray = next(
        p for p in (f"hashed/stray-{i}.txt" for i in range(1000))
        if not path_hash(p).startswith((pre1, pre2))
    )
    sc.delegate("targets", [
        ("hp-1", ed25519(), False, {"path_hash_prefixes": [pre1]}),
        ("hp-2", ed25519(), False, {"path_hash_prefixes": [pre2]}),
    ])
    sc.add_target(p1, b"first\n", role="hp-1")
    sc.add_target(p2, b"second\n", role="hp-2")
    sc.add_target(stray, b"stray\n", role="hp-1", expect_found=False)
    return sc.finish()


def hash_bins(out: Path) -> dict[str, Any]:
    sc = simple_scenario(
        out,
        "hash-bins",
        "Succinct hash bins (TAP 15): targets.delegations has 'succinct_roles' {bit_length 3, "
        "name_prefix 'bins', keyids, threshold} and no 'roles'. 8 bins bins-0..bins-7 (suffix "
        "is lowercase hex zero-padded to the width of the largest bin number); a target's bin "
        "is the top bit_length bits of the first 4 bytes (big-endian) of sha256(path). Every "
        "bin is terminating and every bin has metadata (empty targets where none). not_found "
        "lists a path that is listed (and stored) in a bin that is not its own.",
        one_key_each(ed25519),
    )
    kb = ed25519()
    succinct = SuccinctRoles([kb.public_key.keyid], 1, bit_length=3, name_prefix="bins")
    sc.targets.signed.delegations = Delegations(
        keys={kb.public_key.keyid: kb.public_key}, succinct_roles=succinct
    )
    for name in succinct.get_roles():
        sc.add_delegated(name, [kb])
    for i in range(20):
        path = f"bin-targets/file-{i:02}.txt"
        data = f"hash bin target {i}\n".encode()
        sc.add_target(path, data, role=succinct.get_role_for_target(path))
    stray = "bin-targets/misplaced.txt"
    own = succinct.get_role_for_target(stray)
    wrong = next(n for n in succinct.get_roles() if n != own)
    sc.add_target(stray, b"in the wrong bin\n", role=wrong, expect_found=False)
    return sc.finish()


def root_rotation(out: Path) -> dict[str, Any]:
    sc = Scenario(
        out,
        "root-rotation",
        "1.root.json: root key K1 (threshold 1). 2.root.json: root key K2, signed by K1 and "
        "K2. 3.root.json: root keys {K2, K3} threshold 2, signed by K2 and K3 (K2 meets v2's "
        "threshold, K2+K3 meet v3's); v3 also replaces the timestamp key T1 by T2, and "
        "timestamp.json is signed by T2 only. Trust 1.root.json and walk to 3.",
    )
    k1, k2, k3 = ed25519(), ed25519(), ed25519()
    t1, t2 = ed25519(), ed25519()
    snap, targ = ed25519(), ed25519()
    r1 = sc.new_root({"root": [k1], "timestamp": [t1], "snapshot": [snap], "targets": [targ]})
    sc.publish_root(r1, [k1])
    r2 = sc.new_root({"root": [k2], "timestamp": [t1], "snapshot": [snap], "targets": [targ]})
    sc.publish_root(r2, [k1, k2])
    r3 = sc.new_root(
        {"root": [k2, k3], "timestamp": [t2], "snapshot": [snap], "targets": [targ]},
        thresholds={"root": 2},
    )
    sc.publish_root(r3, [k2, k3])
    sc.add_target("rotated-1.txt", b"after rotation 1\n")
    sc.add_target("rotated/2.txt", b"after rotation 2\n")
    return sc.finish()


def custom_fields(out: Path) -> dict[str, Any]:
    sc = Scenario(
        out,
        "custom-fields",
        "Signed metadata carries fields the spec does not define, and they are covered by the "
        "signatures: root.signed 'x-custom', an extra field in a root key object and in a "
        "root role, targets.signed 'x-custom', a target's 'custom' plus an unknown field "
        "beside length/hashes, an unknown field in snapshot meta and in timestamp meta. "
        "Strings contain quotes, backslashes, a newline, a tab and non-ASCII: canonical JSON "
        "escapes only '\"' and '\\\\' and writes every other character raw (a raw 0x0A byte "
        "for the newline). Verifiers must keep unknown fields when canonicalizing.",
    )
    keys = one_key_each(ed25519)
    weird = {"a": [1, 2], "q": "quote \" backslash \\ nl \n tab \t \u00e9\u2713",
             "n": -7, "z": 0, "t": True, "f": False, "nil": None, "empty": {}, "list": []}
    root = sc.new_root(keys)
    root.signed.unrecognized_fields["x-custom"] = weird
    root_key = keys["root"][0].public_key
    root.signed.keys[root_key.keyid].unrecognized_fields["x-key-extra"] = {"hw": "none"}
    root.signed.roles["targets"].unrecognized_fields["x-role-extra"] = "role note"
    sc.publish_root(root, keys["root"])
    sc.targets.signed.unrecognized_fields["x-custom"] = {"a": [1, 2]}
    sc.add_target("custom.txt", b"custom\n", custom={"owner": "\u00e9quipe", "tags": ["x", "y"]})
    sc.targets.signed.targets["custom.txt"].unrecognized_fields["x-target-extra"] = 42
    sc.add_target("plain.txt", b"plain\n")
    sc.meta_extras = {"x-meta-extra": [True, None]}
    return sc.finish()


SCENARIOS = [
    ("ed25519-basic", ed25519_basic),
    ("ecdsa", ecdsa_scenario),
    ("rsa", rsa_scenario),
    ("mixed-threshold", mixed_threshold),
    ("delegations", delegations),
    ("hash-prefixes", hash_prefixes),
    ("hash-bins", hash_bins),
    ("root-rotation", root_rotation),
    ("custom-fields", custom_fields),
]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for name, build in SCENARIOS:
        if (out / name).exists():
            shutil.rmtree(out / name)
        expected = build(out)
        index.append({
            "name": name,
            "dir": name,
            "targets": len(expected["targets"]),
            "not_found": len(expected["not_found"]),
            "root_versions": expected["root_versions"],
            "key_types": expected["key_types"],
        })
    (out / "index.json").write_text(
        json.dumps({"generator": "python-tuf", "tuf_spec_version": SPEC_VERSION,
                    "expires": EXPIRES_STR, "scenarios": index}, indent=2) + "\n",
        encoding="utf-8",
    )
    print(json.dumps({"out": str(out), "scenarios": [s["name"] for s in index]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
