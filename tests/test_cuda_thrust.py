"""Thrust in CUDA sources: the subset translated to OpenMP target loops (PCX410), the rest
refused with the call and its line (PCX409).

The run tests translate small Thrust programs, build them as C++ with clang-19 for the
host device and run them the strict way; their right answers are computed here in Python,
independently of the runtime.
"""

from __future__ import annotations

import shutil
import subprocess
from itertools import accumulate
from pathlib import Path

import pytest

from pcx_driver import gate
from pcx_driver.cuda import CudaTranslation, translate_source
from pcx_driver.model import Language, SourceUnit

FLAGS = ["-O2", "-fopenmp", "-fopenmp-targets=x86_64-pc-linux-gnu", "-Wl,-rpath,/usr/lib/llvm-19/lib"]
needs_clang = pytest.mark.skipif(shutil.which("clang++-19") is None, reason="clang++-19 is not installed")

HEADERS = "".join(f"#include <thrust/{h}.h>\n" for h in (
    "device_vector", "host_vector", "execution_policy", "functional", "reduce", "scan", "transform",
    "count", "fill", "sequence", "copy"))


def tr(src: str) -> CudaTranslation:
    return translate_source(SourceUnit(path="app.cu", text=src, language=Language.CUDA))


def run_program(tmp_path: Path, body: str) -> str:
    """Translate ``#include <cstdio>`` + the Thrust headers + ``body``, build it as C++
    for the host device, run it strictly; its stdout."""
    src = "#include <cstdio>\n" + HEADERS + body
    (tmp_path / "app.cu").write_text(src)
    t = tr(src)
    assert t.ok and t.cxx, [r.format() for r in t.remarks]
    (tmp_path / "app.cpp").write_text(t.text)
    p = subprocess.run(["clang++-19", *FLAGS, "app.cpp", "-o", "app"], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    run = gate.run_program([str(tmp_path / "app")], cwd=str(tmp_path),
                           env={**gate.VALIDATION_ENV, "KMP_BLOCKTIME": "0"}, timeout=60)
    assert run.returncode == 0, run.stderr[-3000:]
    assert not gate.unmapped_pointers(run.stderr)
    return run.stdout


# --------------------------------------------------------------------------- refusals

REFUSED = [
    # (source, line, words in the message)
    ("#include <thrust/unique.h>\n", 1, "<thrust/unique.h>"),
    ("#include <cub/cub.cuh>\n", 1, "<cub/cub.cuh>"),
    ("int main() {\n  thrust::device_vector<int> k(4), v(4);\n"
     "  thrust::reduce_by_key(k.begin(), k.end(), v.begin(), k.begin(), v.begin());\n}\n", 3, "thrust::reduce_by_key"),
    ("int main() {\n  thrust::device_vector<int> v(4);\n  thrust::stable_partition(v.begin(), v.end(), f());\n}\n",
     3, "thrust::stable_partition"),
    ("int main() {\n  thrust::device_vector<int> v(4);\n  thrust::sort(v.begin());\n}\n", 3, "thrust::sort with 1 arguments"),
    ("int main() {\n  int s = thrust::reduce(thrust::make_counting_iterator(0),\n"
     "                         thrust::make_counting_iterator(9));\n}\n", 2, "thrust::make_counting_iterator"),
    ("int main() {\n  thrust::device_vector<int> v(4);\n  int s = thrust::reduce(v.rbegin(), v.rend());\n}\n",
     3, "v.rbegin()"),
    ("#include <vector>\nint main() {\n  thrust::device_vector<int> v(4);\n  std::vector<int> h;\n"
     "  thrust::copy(v.begin(), v.end(), std::back_inserter(h));\n}\n", 5, "std::back_inserter"),
    ("int main() {\n  thrust::device_vector<int> v(4);\n  int s = thrust::reduce(v.begin(), v.end(), 0, std::plus<int>());\n}\n",
     3, "std::plus<int>"),
    ("int main() {\n  thrust::device_vector<int> v(4);\n  thrust::inclusive_scan(v.begin(), v.end(), v.begin(), 0, f());\n}\n",
     3, "thrust::inclusive_scan with 5 arguments"),
    ("int main() {\n  thrust::device_vector<int> v;\n  v.push_back(3);\n}\n", 3, "push_back"),
    ("void add(thrust::device_vector<int> &v) {\n  v.insert(v.end(), 3);\n}\n", 2, "insert"),
    ("using namespace thrust;\nint main() { return 0; }\n", 1, "thrust"),
    ("using thrust::reduce;\nint main() { return 0; }\n", 1, "thrust::reduce"),
    ("namespace th = thrust;\nint main() { return 0; }\n", 1, "thrust"),
    ("__global__ void k(int *v) { v[0] = thrust::maximum<int>()(v[1], v[2]); }\n", 1, "thrust::maximum<int>"),
]


@pytest.mark.parametrize("src, line, words", REFUSED, ids=[r[2] for r in REFUSED])
def test_thrust_beyond_the_subset_is_refused_with_the_construct_and_line(src: str, line: int, words: str) -> None:
    t = tr(src)
    assert not t.ok
    hits = [r for r in t.remarks if r.id == "PCX409" and r.line == line]
    assert hits, [r.format() for r in t.remarks]
    assert words in hits[0].message


def test_the_subset_is_renamed_and_each_algorithm_reported() -> None:
    src = HEADERS + (
        "int main() {\n"
        "  thrust::device_vector<float> v(8);\n"
        "  thrust::sequence(v.begin(), v.end());\n"
        "  float s = thrust::reduce(thrust::device, thrust::raw_pointer_cast(v.data()),\n"
        "                           thrust::raw_pointer_cast(v.data()) + 8, 0.0f, thrust::maximum<float>());\n"
        "  return (int)s;\n"
        "}\n")
    t = tr(src)
    assert t.ok and t.cxx, [r.format() for r in t.remarks]
    assert [(r.id, r.line) for r in t.remarks] == [("PCX410", 14), ("PCX410", 15)]
    assert "thrust::" not in t.body.replace("pcx_thrust::", "").replace("<thrust/", "")
    assert "pcx_thrust::reduce(pcx_thrust::device, pcx_thrust::raw_pointer_cast(v.data())" in t.body
    assert t.text.index("pcx-thrust-runtime.h") < t.text.index('#line 1 "app.cu"')


def test_a_unit_without_thrust_gets_no_runtime() -> None:
    t = tr("__global__ void k(int *v) { v[threadIdx.x] = 1; }\n")
    assert t.ok and not t.cxx
    assert "pcx_thrust" not in t.text


# --------------------------------------------------------------------------- runs

SIZES = [1, 2, 255, 256, 257, 1000, 100003]  # below, at and above the runtime's 256 blocks


@needs_clang
def test_scans_match_a_serial_scan_at_every_size(tmp_path: Path) -> None:
    """Inclusive and exclusive scans (plus, maximum, an init value, in place, on raw
    pointers under thrust::device) against Python's own scans of the same data, at sizes
    around the block count."""
    body = """
int main() {
  const int sizes[] = {%s};
  for (int s = 0; s < (int)(sizeof sizes / sizeof sizes[0]); s++) {
    int n = sizes[s];
    thrust::host_vector<int> h(n);
    for (int i = 0; i < n; i++) h[i] = (i * 7919) %% 1013 - 500;
    thrust::device_vector<int> d = h, out(n);
    thrust::inclusive_scan(d.begin(), d.end(), out.begin());
    int a = out[n - 1], a2 = out[n / 2];
    thrust::exclusive_scan(d.begin(), d.end(), out.begin(), 3);
    int b = out[n - 1], b2 = out[n / 2];
    thrust::inclusive_scan(d.begin(), d.end(), d.begin(), thrust::maximum<int>());
    int c = d[n - 1], c2 = d[n / 2];
    thrust::device_vector<int> again = h;
    int *raw = thrust::raw_pointer_cast(again.data());
    thrust::exclusive_scan(thrust::device, raw, raw + n, raw);
    int e = again[n - 1];
    printf("%%d %%d %%d %%d %%d %%d %%d %%d\\n", n, a, a2, b, b2, c, c2, e);
  }
  return 0;
}
""" % ", ".join(map(str, SIZES))
    expected = []
    for n in SIZES:
        h = [(i * 7919) % 1013 - 500 for i in range(n)]
        incl = list(accumulate(h))
        excl = [3 + x - v for x, v in zip(incl, h)]
        run_max = list(accumulate(h, max))
        expected.append(f"{n} {incl[-1]} {incl[n // 2]} {excl[-1]} {excl[n // 2]} {run_max[-1]} {run_max[n // 2]} {sum(h[:-1])}")
    assert run_program(tmp_path, body).splitlines() == expected


@needs_clang
def test_reductions_counts_and_host_ranges(tmp_path: Path) -> None:
    """reduce over an empty range is its init; count and reduce on host_vector iterators
    and on plain pointers (no policy) run on the host with the same meaning."""
    body = """
struct twice { int operator()(int x) const { return 2 * x; } };
int main() {
  thrust::device_vector<int> d(1000);
  thrust::sequence(d.begin(), d.end(), 10, 3);
  printf("%d %d %d\\n", thrust::reduce(d.begin(), d.begin(), 42), thrust::reduce(d.begin(), d.end()),
         thrust::reduce(d.begin(), d.end(), 1 << 30, thrust::minimum<int>()));
  thrust::transform(d.begin(), d.end(), d.begin(), twice());
  printf("%ld %d\\n", (long)thrust::count(d.begin(), d.end(), 2 * (10 + 3 * 500)), (int)d[999]);
  thrust::device_vector<int> e(1000);
  thrust::copy(thrust::device, thrust::raw_pointer_cast(d.data()), thrust::raw_pointer_cast(d.data()) + 1000,
               thrust::raw_pointer_cast(e.data()));
  thrust::host_vector<int> h = e;
  int plain[5] = {5, 1, 4, 1, 3};
  printf("%d %ld %d\\n", thrust::reduce(h.begin(), h.end()), (long)thrust::count(plain, plain + 5, 1),
         thrust::reduce(plain, plain + 5, 0, thrust::maximum<int>()));
  return 0;
}
"""
    seq = [10 + 3 * i for i in range(1000)]
    doubled = [2 * x for x in seq]
    expected = [f"42 {sum(seq)} 10", f"1 {doubled[999]}", f"{sum(doubled)} 2 5"]
    assert run_program(tmp_path, body).splitlines() == expected


def test_device_vector_members_the_runtime_has_translate() -> None:
    """The member check knows device_vector parameters too, and leaves host_vector
    (a std::vector) alone."""
    t = tr("#include <thrust/device_vector.h>\n#include <thrust/host_vector.h>\n"
           "int grow(thrust::device_vector<int> &v, thrust::host_vector<int> &h) {\n"
           "  v.resize(v.size() + 1); h.push_back(v.back()); v.clear(); return (int)h.size() + v.empty();\n}\n")
    assert t.ok and t.cxx, [r.format() for r in t.remarks]
