"""bench/paracodex.py's own rules: how a Rodinia OpenMP version is made serial, and when
an 8-bit image that a float sum in another order moved counts as close to the serial one."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from conftest import bench_module



@pytest.fixture(scope="module")
def paracodex():
    return bench_module("paracodex")


OPENMP = r"""#include <stdio.h>
int main(void) {
  static float a[1000];
  float s = 0;
  #pragma omp target teams distribute parallel for map(tofrom: a[0:1000]) \
      map(to: s)
  for (int i = 0; i < 1000; i++) a[i] = i;
#   pragma   omp parallel for reduction(+: s)
  for (int i = 0; i < 1000; i++) s += a[i];
#pragma once_not_openmp
  printf("%.1f %d\n", s, __LINE__);
  return 0;
}
"""


def test_a_rodinia_version_made_serial_keeps_every_line(paracodex, tmp_path) -> None:
    """Each OpenMP directive, its continuation lines too, becomes an empty line: the
    serial program prints the same line numbers, and no other pragma is touched."""
    serial = paracodex.without_openmp(OPENMP)
    assert len(serial.split("\n")) == len(OPENMP.split("\n"))
    assert "omp" not in serial.replace("once_not_openmp", "")
    assert "#pragma once_not_openmp" in serial
    if shutil.which("clang-19") is None:
        pytest.skip("clang-19 not installed")
    (tmp_path / "s.c").write_text(serial)
    subprocess.run(["clang-19", "-O1", "-Werror", "-Wno-unknown-pragmas", "s.c", "-o", "s"], cwd=tmp_path, check=True)
    assert subprocess.run(["./s"], cwd=tmp_path, capture_output=True, text=True).stdout == "499500.0 11\n"


def test_an_image_one_grey_level_apart_in_a_few_pixels_is_close(paracodex) -> None:
    image = "P2\n4 2500\n255\n" + " ".join(str(i % 256) for i in range(10_000)) + "\n"
    moved = image.replace(" 200 ", " 199 ", 1)
    assert paracodex._levels_apart(image, moved) is None
    # two levels, or one level in too many pixels, is a difference
    assert paracodex._levels_apart(image, image.replace(" 200 ", " 198 ", 1))
    assert paracodex._levels_apart(image, image.replace(" 200 ", " 199 "))
    assert paracodex._levels_apart(image, image + "0\n")
