"""Arrays of structs whose members are arrays, reached through a pointer cast from a buffer.

HeCBench's ``layout`` sums ``trees[gid].apples[i]``, where ``AppleTree *trees = (AppleTree
*) data`` and ``apples`` is an ``int[4096]`` member: the element ``trees[gid]`` holds the
member array, so the read is a read of that element (its subscripts inside are read as
values), and ``trees`` points into ``data``'s allocation, distinct from ``out``'s.  Both
used to be refused (PCX118 "pointer chain", PCX104 "may point to overlapping memory").
A pointer derived from another allocation into which the nest also writes is still one
object with it: that nest must stay serial or give the serial answer.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_coverage_liveness import build_and_compare, nest_at  # noqa: E402

CLANG = shutil.which("clang-19")

LAYOUT = r"""
#include <stdio.h>
#include <stdlib.h>
#define SIZE 512
struct Tree { int apples[SIZE]; };
int main(int argc, char **argv) {
  int trees_n = 300 + (argc > 1);
  int *data = (int *)malloc(sizeof(int) * SIZE * trees_n);
  int *out = (int *)malloc(sizeof(int) * trees_n);
  for (int i = 0; i < SIZE * trees_n; i++) data[i] = (i * 7) % 13;
  struct Tree *trees = (struct Tree *)data;
  for (int gid = 0; gid < trees_n; gid++) {      /* SUM */
    int res = 0;
    for (int i = 0; i < SIZE; i++) res += trees[gid].apples[i] * (i % 3);
    out[gid] = res;
  }
  long s = 0;
  for (int gid = 0; gid < trees_n; gid++) s += (long)out[gid] * (gid % 5);
  printf("%ld\n", s);
  return 0;
}
"""

SAME_OBJECT = r"""
#include <stdio.h>
#include <stdlib.h>
#define SIZE 64
struct Row { float v[SIZE]; };
int main(int argc, char **argv) {
  int rows = 200 + (argc > 1);
  float *data = (float *)malloc(sizeof(float) * SIZE * (rows + 1));
  for (int i = 0; i < SIZE * (rows + 1); i++) data[i] = (float)((i * 5) % 9);
  struct Row *r = (struct Row *)data;
  float *out = data + SIZE;                       /* row 1 onwards: inside r's object */
  for (int g = 0; g < rows; g++) {
    float acc = 0;
    for (int i = 0; i < SIZE; i++) acc += r[g].v[i];
    out[g * SIZE] = acc;
  }
  double s = 0;
  for (int i = 0; i < SIZE * (rows + 1); i++) s += data[i] * (i % 7);
  printf("%.3f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_member_array_of_a_struct_element_read_through_a_cast_pointer_is_offloaded(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, LAYOUT, ["SUM"])
    remarks = " ".join(r["message"] for s in data["sources"] for r in s["remarks"])
    assert "pointer chain" not in remarks and "overlapping" not in remarks, remarks


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_pointer_into_the_same_allocation_is_the_same_object(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, SAME_OBJECT, [])
    (nest,) = [n for s in data["sources"] for n in s["nests"] if n["line"] == 12]
    assert not nest["applied"], nest


# Rodinia streamcluster: ``for (i = 0; i < points.num; i++) points.p[i].weight = 1.0;``
# with ``Points points`` a local struct holding the element pointer ``p``.  The kernel maps
# ``points.p[0:points.num]``, and the struct itself must be mapped too (before its member's
# section, which then attaches to the struct's device copy): as firstprivate, the device
# copy kept the host's pointer and the kernel wrote through it (a segfault).
STREAM = r"""
#include <stdio.h>
#include <stdlib.h>
typedef struct { float weight; float *coord; long assign; float cost; } Point;
typedef struct { long num; int dim; Point *p; } Points;
int main(int argc, char **argv) {
  Points points;
  points.num = 4000 + (argc > 1);
  points.dim = 4;
  points.p = (Point *)malloc(points.num * sizeof(Point));
  for (int i = 0; i < points.num; i++) {
    points.p[i].weight = 0; points.p[i].assign = i; points.p[i].cost = 0; points.p[i].coord = 0;
  }
  for (int i = 0; i < points.num; i++)        /* WEIGHTS */
    points.p[i].weight = 1.0f;
  double s = 0;
  for (int i = 0; i < points.num; i++) s += points.p[i].weight * (i % 3) + points.p[i].assign;
  printf("%.1f\n", s);
  return 0;
}
"""


@pytest.mark.skipif(CLANG is None, reason="clang-19 not installed")
def test_a_struct_whose_member_elements_a_kernel_maps_is_mapped_itself(tmp_path: Path) -> None:
    data = build_and_compare(tmp_path, STREAM, ["WEIGHTS"])
    directive = " ".join(nest_at(data, STREAM, "WEIGHTS")["directives"])
    assert "map(to: points) map(" in directive and "firstprivate(points" not in directive, directive
