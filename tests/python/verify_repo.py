#!/usr/bin/env python3
"""Verify a TUF 1.0 repository with python-tuf's real client, tuf.ngclient.Updater.

Usage: verify_repo.py [--metadata-only] REPO_DIR

REPO_DIR holds metadata/ (1.root.json .. N.root.json, timestamp.json, and the snapshot,
targets and delegated-role files named as the root's consistent_snapshot setting asks),
targets/ (files named as python-tuf expects for that setting) and expected.json
(the format make_repo.py writes):

  {"targets": {"<path>": {"length": n, "sha256": "<hex>", "role": "<role>"}},
   "not_found": ["<path>", ...], "root_versions": N, ...}

1.root.json is the trust anchor. Files are served from REPO_DIR by an in-process fetcher
(no network, no HTTP server); a missing file is an HTTP 404 to the client. The client then
refreshes, and for every expected target get_targetinfo() must find it with the expected
length and sha256, the expected role's metadata must have been loaded, and download_target()
must succeed; every not_found path must resolve to None; the final root version must be
root_versions. With --metadata-only, targets/ is not needed and download_target() is not
called: only the metadata (get_targetinfo length, sha256 and role) is checked. Prints a JSON summary on stdout; exits 0 only if everything matched, 1
otherwise (2 on usage errors).
"""

from __future__ import annotations

import json
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tuf.api.exceptions import DownloadHTTPError
from tuf.api.metadata import Metadata, Root
from tuf.ngclient import FetcherInterface, Updater, UpdaterConfig

SCHEME = "file-repo:///"
METADATA_URL = SCHEME + "metadata/"
TARGETS_URL = SCHEME + "targets/"
CHUNK = 64 * 1024


class RepoDirFetcher(FetcherInterface):
    """Serves file-repo:///metadata/... and file-repo:///targets/... from a directory."""

    def __init__(self, repo_dir: Path) -> None:
        self.root = repo_dir.resolve()
        self.requests: list[dict[str, Any]] = []

    def _fetch(self, url: str) -> Iterator[bytes]:
        if not url.startswith(SCHEME):
            raise DownloadHTTPError(f"unexpected URL {url!r}", 400)
        rel = url[len(SCHEME):]
        # The Updater percent-encodes role names in metadata URLs; target paths are used raw.
        if rel.startswith("metadata/"):
            rel = unquote(rel)
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            self.requests.append({"url": url, "status": 404})
            raise DownloadHTTPError(f"not found: {rel}", 404)
        self.requests.append({"url": url, "status": 200})
        data = path.read_bytes()
        return iter([data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [b""])


def verify(repo_dir: Path, metadata_only: bool = False) -> tuple[bool, dict[str, Any]]:
    expected = json.loads((repo_dir / "expected.json").read_text(encoding="utf-8"))
    trusted_root = (repo_dir / "metadata" / "1.root.json").read_bytes()
    fetcher = RepoDirFetcher(repo_dir)
    errors: list[str] = []
    results: dict[str, Any] = {"targets": {}, "not_found": {}}
    summary: dict[str, Any] = {"repo": str(repo_dir), "errors": errors, "results": results,
                               "metadata_only": metadata_only}

    with tempfile.TemporaryDirectory(prefix="verify-repo-") as tmp:
        meta_dir = Path(tmp) / "metadata"
        dl_dir = Path(tmp) / "downloads"
        meta_dir.mkdir()
        dl_dir.mkdir()
        # Defaults, stated explicitly: with consistent_snapshot the client requests
        # dir/<hash>.<name>; without it, the plain path.
        config = UpdaterConfig(prefix_targets_with_hash=True)
        try:
            updater = Updater(
                metadata_dir=str(meta_dir),
                metadata_base_url=METADATA_URL,
                target_dir=str(dl_dir),
                target_base_url=TARGETS_URL,
                fetcher=fetcher,
                config=config,
                bootstrap=trusted_root,
            )
            updater.refresh()
        except Exception as e:  # noqa: BLE001 - any failure is a verdict, reported below
            errors.append(f"refresh failed: {type(e).__name__}: {e}")
            summary["traceback"] = traceback.format_exc()
            summary["requests"] = fetcher.requests
            return False, summary

        root = Metadata[Root].from_file(str(meta_dir / "root.json")).signed
        summary["root_version"] = root.version
        summary["consistent_snapshot"] = root.consistent_snapshot
        want_root = expected.get("root_versions")
        if want_root is not None and root.version != want_root:
            errors.append(f"trusted root version is {root.version}, expected {want_root}")

        for path, want in expected.get("targets", {}).items():
            res: dict[str, Any] = {"ok": False}
            results["targets"][path] = res
            try:
                info = updater.get_targetinfo(path)
                if info is None:
                    errors.append(f"{path}: not found, expected role {want.get('role')}")
                    continue
                res["length"] = info.length
                res["sha256"] = info.hashes.get("sha256")
                if info.length != want["length"]:
                    errors.append(f"{path}: length {info.length}, expected {want['length']}")
                    continue
                if info.hashes.get("sha256") != want["sha256"]:
                    errors.append(f"{path}: sha256 {info.hashes.get('sha256')}, "
                                  f"expected {want['sha256']}")
                    continue
                role = want.get("role")
                # The public API does not say which role vouched for a target; the role's
                # metadata having been loaded and verified is the closest observable fact.
                if role and role not in updater._trusted_set:  # noqa: SLF001
                    errors.append(f"{path}: role {role} was never loaded")
                    continue
                if not metadata_only:
                    out = updater.download_target(info)
                    res["downloaded"] = Path(out).stat().st_size
                res["ok"] = True
            except Exception as e:  # noqa: BLE001
                errors.append(f"{path}: {type(e).__name__}: {e}")

        for path in expected.get("not_found", []):
            try:
                info = updater.get_targetinfo(path)
                results["not_found"][path] = info is None
                if info is not None:
                    errors.append(f"{path}: resolved (length {info.length}) but must not")
            except Exception as e:  # noqa: BLE001
                results["not_found"][path] = False
                errors.append(f"{path}: lookup raised {type(e).__name__}: {e}")

        summary["requests"] = fetcher.requests
    summary["ok"] = not errors
    return not errors, summary


def main(argv: list[str]) -> int:
    args = argv[1:]
    metadata_only = "--metadata-only" in args
    args = [a for a in args if a != "--metadata-only"]
    if len(args) != 1:
        print("usage: verify_repo.py [--metadata-only] REPO_DIR", file=sys.stderr)
        return 2
    repo_dir = Path(args[0])
    for need in ("expected.json", "metadata/1.root.json"):
        if not (repo_dir / need).is_file():
            print(f"verify_repo.py: {repo_dir / need} is missing", file=sys.stderr)
            print(json.dumps({"repo": str(repo_dir), "ok": False,
                              "errors": [f"{need} is missing"]}))
            return 1
    ok, summary = verify(repo_dir, metadata_only)
    summary["ok"] = ok
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if not ok:
        print(f"verify_repo.py: FAILED for {repo_dir}:", file=sys.stderr)
        for e in summary["errors"]:
            print(f"  - {e}", file=sys.stderr)
        return 1
    n, m = len(summary["results"]["targets"]), len(summary["results"]["not_found"])
    print(f"verify_repo.py: OK {repo_dir}: {n} targets verified, {m} absent as expected",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
