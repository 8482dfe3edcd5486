"""Check that the installed llama.cpp libraries run on the project's CPU baseline.

The baseline is x86-64 with AVX2, FMA, F16C and BMI2 (x86-64-v3). A library that holds AMX
(``tilezero``, ``ldtilecfg``, ``tdp…``) or AVX-512 instructions (EVEX-encoded: ``zmm``
registers, mask registers, ``xmm16``-``xmm31``) dies with SIGILL on a CPU without them, or
on a virtual machine that advertises them but cannot run them, which is how a native build
once took the whole app down. This script disassembles every shared library of the
``llama_cpp`` package with ``objdump -d`` and fails when it finds any.

A library whose name says it is a runtime-dispatched CPU variant (``libggml-cpu-<arch>.so``,
chosen at run time by CPUID) may hold them; the project does not build those (Makefile), and
they are reported separately when present.

Usage (from the repository root, with the project's venv)::

    python scripts/check_cpu_isa.py            # the installed llama_cpp package
    python scripts/check_cpu_isa.py LIB.so ... # given libraries

Exit status: 0 when no library holds AMX or AVX-512 outside a dispatched variant; 1 when one
does; 2 when there is nothing to check or objdump is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

AMX_MNEMONIC = re.compile(r"^(?:tile\w*|ldtilecfg|sttilecfg|tdp\w+)$")
MASK_MNEMONIC = re.compile(
    r"^k(?:mov|and|andn|or|xor|xnor|not|shift\w+|test|ortest|unpck\w*|add)[bwdq]$"
)
AVX512_OPERAND = re.compile(r"%zmm\d|%k[0-7]\b|\{%k[0-7]\}|%[xy]mm(?:1[6-9]|2\d|3[01])\b")
AVX2_OPERAND = re.compile(r"%ymm\d")
LEGACY_PREFIXES = {"66", "67", "f2", "f3", "2e", "36", "3e", "26", "64", "65", "f0"}
#: libggml-cpu-haswell.so and the like: variants GGML_CPU_ALL_VARIANTS builds for dispatch
DISPATCHED_VARIANT = re.compile(r"libggml-cpu-[a-z0-9_.]+\.so")
# objdump line: "  4005d0:\t62 f1 7c 48 28 05 00 00 00 00 \tvmovaps 0x0(%rip),%zmm0"
LINE = re.compile(r"^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t(\S+)\s*(.*)$")


@dataclass
class LibraryReport:
    path: Path
    instructions: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def dispatched(self) -> bool:
        return bool(DISPATCHED_VARIANT.fullmatch(self.path.name.split(".so")[0] + ".so"))

    def note(self, kind: str, text: str) -> None:
        self.counts[kind] += 1
        examples = self.examples.setdefault(kind, [])
        if len(examples) < 3:
            examples.append(text)


def classify(raw: str, mnemonic: str, operands: str) -> str | None:
    """'amx', 'avx512', 'avx2' or None for one disassembled instruction."""
    if AMX_MNEMONIC.match(mnemonic):
        return "amx"
    opcode = [b for b in raw.split() if b not in LEGACY_PREFIXES]
    if (opcode and opcode[0] == "62") or MASK_MNEMONIC.match(mnemonic):
        return "avx512"  # 0x62 is the EVEX prefix in 64-bit mode (BOUND does not exist there)
    if AVX512_OPERAND.search(operands):
        return "avx512"
    if AVX2_OPERAND.search(operands):
        return "avx2"
    return None


def scan(path: Path, objdump: str) -> LibraryReport:
    report = LibraryReport(path)
    proc = subprocess.Popen(
        [objdump, "-d", "--insn-width=15", str(path)],
        stdout=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        match = LINE.match(line)
        if not match:
            continue
        raw, mnemonic, operands = match.groups()
        report.instructions += 1
        kind = classify(raw, mnemonic, operands)
        if kind:
            report.note(kind, f"{mnemonic} {operands}".strip())
    if proc.wait() != 0:
        raise RuntimeError(f"objdump failed on {path}")
    return report


def package_libraries() -> list[Path]:
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    # a wheel holds libfoo.so, libfoo.so.0 and libfoo.so.0.1.2 as copies: look at one of each
    seen: set[tuple[int, bytes]] = set()
    libraries = []
    for path in sorted(root.rglob("*.so*"), key=lambda p: (len(p.name), p.name)):
        if not path.is_file():
            continue
        data = path.read_bytes()
        key = (len(data), hashlib.sha256(data).digest())
        if key not in seen:
            seen.add(key)
            libraries.append(path)
    return sorted(libraries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("libraries", nargs="*", type=Path)
    args = parser.parse_args(argv)
    objdump = shutil.which("objdump")
    if objdump is None:
        print("error: objdump is missing (Debian package binutils)", file=sys.stderr)
        return 2
    libraries = args.libraries or package_libraries()
    if not libraries:
        print("error: no llama_cpp libraries found: run `make setup`", file=sys.stderr)
        return 2
    bad = 0
    for path in libraries:
        report = scan(path, objdump)
        amx, avx512, avx2 = (report.counts[k] for k in ("amx", "avx512", "avx2"))
        verdict = "ok"
        if amx or avx512:
            verdict = "dispatched variant" if report.dispatched else "OUTSIDE THE BASELINE"
            bad += not report.dispatched
        print(
            f"{path.name}: {report.instructions} instructions, {amx} AMX, {avx512} AVX-512, "
            f"{avx2} AVX2 (ymm) - {verdict}"
        )
        for kind in ("amx", "avx512"):
            for example in report.examples.get(kind, []):
                print(f"    {kind}: {example}")
    if bad:
        print(
            f"error: {bad} librar{'y' if bad == 1 else 'ies'} hold AMX or AVX-512 code that a "
            "baseline x86-64 CPU cannot run: rebuild with the Makefile's LLAMA_CMAKE_ARGS",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
