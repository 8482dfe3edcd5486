"""scripts/check_cpu_isa.py finds AMX and AVX-512 code in a shared library, and passes code
built for the baseline. Libraries are compiled here with gcc, so the check is seen to fail on
exactly the instructions that killed the app (``tilezero``) and on EVEX (AVX-512) code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "check_cpu_isa.py"

pytestmark = pytest.mark.skipif(
    shutil.which("gcc") is None or shutil.which("objdump") is None, reason="needs gcc and objdump"
)

SOURCES = {
    "baseline": (
        "-mavx2 -mfma",
        "#include <immintrin.h>\n"
        "void f(float *a, float *b) { _mm256_storeu_ps(a, _mm256_fmadd_ps("
        "_mm256_loadu_ps(a), _mm256_loadu_ps(b), _mm256_loadu_ps(a))); }\n",
    ),
    "avx512": (
        "-mavx512f",
        "#include <immintrin.h>\n"
        "void f(float *a, float *b) { _mm512_storeu_ps(a, _mm512_add_ps("
        "_mm512_loadu_ps(a), _mm512_loadu_ps(b))); }\n",
    ),
    "amx": ("", 'void f(void) { __asm__ volatile("tilezero %%tmm0" ::: "memory"); }\n'),
}


def build(tmp_path: Path, name: str, lib_name: str | None = None) -> Path:
    flags, code = SOURCES[name]
    src = tmp_path / f"{name}.c"
    src.write_text(code)
    lib = tmp_path / (lib_name or f"lib{name}.so")
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", *flags.split(), str(src), "-o", str(lib)], check=True
    )
    return lib


def check(*libs: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, libs)], capture_output=True, text=True
    )


def test_baseline_code_passes(tmp_path: Path) -> None:
    result = check(build(tmp_path, "baseline"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 AMX, 0 AVX-512" in result.stdout
    assert "ok" in result.stdout


@pytest.mark.parametrize(("name", "shown"), [("avx512", "zmm"), ("amx", "tilezero")])
def test_code_outside_the_baseline_fails_and_is_shown(
    tmp_path: Path, name: str, shown: str
) -> None:
    result = check(build(tmp_path, "baseline"), build(tmp_path, name))
    assert result.returncode == 1
    assert "OUTSIDE THE BASELINE" in result.stdout
    assert shown in result.stdout
    assert "1 library" in result.stderr


def test_a_runtime_dispatched_variant_may_hold_avx512(tmp_path: Path) -> None:
    result = check(build(tmp_path, "avx512", "libggml-cpu-skylakex.so"))
    assert result.returncode == 0, result.stdout
    assert "dispatched variant" in result.stdout
