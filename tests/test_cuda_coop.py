"""Cooperative groups in pcx_driver.cuda (``coop.py``): the thread block and its tiles are
spellings of the barrier-phase and warp schemes, and translate; every other group is
refused (PCX402) with the construct and its line.

The run test computes, for a 2D block of 64 threads split into tiles of 8, what CUDA
gives each lane, and checks the translated program prints exactly that on the host
device, run the strict way.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_cuda_translate import build_and_run, needs_clang, tr  # noqa: E402

HEAD = ("#include <cooperative_groups.h>\n#include <cooperative_groups/reduce.h>\n"
        "namespace cg = cooperative_groups;\n")

TILES = HEAD + r"""
#include <stdio.h>

__global__ void tiles(const int *in, int *out)
{
    cg::thread_block block = cg::this_thread_block();
    auto eight = cg::tiled_partition<8>(block);
    int r = (int)block.thread_rank();
    int g = (int)(block.group_index().x * block.num_threads()) + r;
    int x = in[g];
    int s = x;
    for (int d = 1; d < 8; d *= 2) {
        int y = eight.shfl_up(s, d);
        if ((int)eight.thread_rank() >= d)
            s += y;
    }
    eight.sync();
    int first = eight.shfl(x, 0);
    int swapped = eight.shfl_xor(x, 1);
    int odd = cg::reduce(eight, x & 1, cg::bit_or<int>());
    unsigned int b = eight.ballot(x > 50);
    int any_big = eight.any(x > 90);
    int all_pos = eight.all(x > 0);
    int total = cg::reduce(eight, x, cg::plus<int>());
    block.sync();
    int *o = out + 8 * g;
    o[0] = s; o[1] = first; o[2] = swapped; o[3] = odd;
    o[4] = (int)b * 4 + any_big * 2 + all_pos;
    o[5] = total;
    o[6] = (int)(eight.meta_group_rank() * 100 + eight.meta_group_size());
    o[7] = (int)(block.thread_index().y * block.dim_threads().x + block.thread_index().x) == r;
}

int main(void)
{
    int h[128], o[1024], *d, *dout;
    for (int i = 0; i < 128; i++) h[i] = (i * 37 + 11) % 100;
    cudaMalloc(&d, sizeof h);
    cudaMalloc(&dout, sizeof o);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    tiles<<<2, dim3(16, 4)>>>(d, dout);
    cudaMemcpy(o, dout, sizeof o, cudaMemcpyDeviceToHost);
    for (int i = 0; i < 1024; i++) printf("%d ", o[i]);
    printf("\n");
    return 0;
}
"""


def _tiles_expected() -> list[int]:
    """What CUDA computes for TILES: a tile is 8 consecutive threads (by thread_rank) of a
    64-thread block; each lane gets its tile's scan, broadcast, swap, votes and sums."""
    x = [(i * 37 + 11) % 100 for i in range(128)]
    out = []
    for g in range(128):
        r, lane = g % 64, g % 8
        tile = x[g - lane:g - lane + 8]
        ballot = sum(1 << k for k, v in enumerate(tile) if v > 50)
        odd = 0
        for v in tile:
            odd |= v & 1
        out += [sum(tile[:lane + 1]), tile[0], tile[lane ^ 1], odd,
                ballot * 4 + any(v > 90 for v in tile) * 2 + all(v > 0 for v in tile),
                sum(tile), (r // 8) * 100 + 8, 1]
    return out


@needs_clang
@pytest.mark.parametrize("language", ["c", "c++"])
def test_block_and_tile_calls_run_as_phases_and_exchanges(tmp_path: Path, language: str) -> None:
    run = build_and_run(tmp_path, TILES, language=language)
    assert run.stdout == " ".join(map(str, _tiles_expected())) + " \n"


def test_a_block_kernel_is_split_at_block_sync() -> None:
    t = tr(HEAD + """
__global__ void k(float *v)
{
    __shared__ float s[64];
    cg::thread_block block = cg::this_thread_block();
    s[block.thread_rank()] = v[block.thread_rank()];
    block.sync();
    v[block.thread_rank()] = s[block.size() - 1 - block.thread_rank()];
}
""")
    assert t.ok, [r.format() for r in t.remarks]
    assert "its 2 barrier phase(s)" in t.remarks[0].message
    # The groups, their declarations and the headers leave nothing C cannot compile.
    code = "\n".join(line for line in t.body.splitlines() if not line.lstrip().startswith("/*"))
    assert not re.search(r"\bcg::|cooperative_groups|\bblock\.", code), code


def test_a_kernel_without_a_barrier_stays_one_loop_over_the_grid() -> None:
    t = tr(HEAD + """
__global__ void k(float *v)
{
    cg::thread_block block = cg::this_thread_block();
    v[block.group_index().x * block.size() + block.thread_rank()] = 1.0f;
}
""")
    assert t.ok, [r.format() for r in t.remarks]
    assert "target teams distribute parallel for loop over its launch grid" in t.remarks[0].message


KERNEL = HEAD + """
__global__ void k(float *v, int n)
{{
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
    int i = blockIdx.x * blockDim.x + threadIdx.x;
{body}
}}
"""

REFUSALS = [
    # (body of a kernel (lines 10...), line, words the PCX402 message must contain)
    ("    cg::grid_group grid = cg::this_grid();\n    grid.sync();", 10, "cg::grid_group"),
    ("    cg::grid_group grid = cg::this_grid();\n    grid.sync();", 11, "grid.sync(): grid is a cg::grid_group"),
    ("    cg::coalesced_group a = cg::coalesced_threads();\n    v[i] = a.size();", 10, "cg::coalesced_threads"),
    ("    cg::thread_block_tile<64> big = cg::tiled_partition<64>(block);\n    big.sync();", 10,
     "cg::thread_block_tile"),
    ("    cg::thread_group g4 = cg::tiled_partition(block, 4);\n    v[i] = g4.thread_rank();", 10, "cg::thread_group"),
    ("    v[i] = 1.0f + tile.shfl_down(v[i], 1);", 10,
     "tile.shfl_down cannot be translated here: tile.shfl_down must be the whole right-hand side"),
    ("    float s = cg::reduce(tile, v[i], cg::plus<float>()) * 2.0f;", 10, "cg::reduce"),
    ("    if (i < n) { float s = cg::reduce(tile, v[i], cg::plus<float>()); v[i] = s; }", 10,
     "cg::reduce under a condition that may differ between threads"),
    ("    float m = cg::reduce(tile, v[i], cg::maximum<float>());", 10, "cg::reduce(tile, v[i], cg::maximum<float>())"),
    ("    unsigned int m = tile.match_any(v[i]); v[i] = m;", 10, "tile.match_any(v[i])"),
    ("    cg::sync(block);", 10, "cg::sync"),
    ("    v[i] = cg::thread_rank(tile);", 10, "cg::thread_rank"),
]


@pytest.mark.parametrize("body, line, words", REFUSALS, ids=[r[2] for r in REFUSALS])
def test_other_cooperative_groups_are_refused_with_construct_and_line(body: str, line: int, words: str) -> None:
    t = tr(KERNEL.format(body=body))
    assert not t.ok
    hits = [r for r in t.remarks if r.id == "PCX402" and r.line == line and words in r.message]
    assert hits, [r.format() for r in t.remarks]


@pytest.mark.parametrize("src, line, words", [
    ("#include <cooperative_groups/memcpy_async.h>\n", 1, "<cooperative_groups/memcpy_async.h>"),
    ("#include <cooperative_groups.h>\nusing namespace cooperative_groups;\n", 2, "cooperative_groups"),
    (HEAD + "__device__ float sum(cg::thread_block_tile<32> t, float v) { return cg::reduce(t, v, cg::plus<float>()); }\n",
     4, "cg::thread_block_tile"),
])
def test_cooperative_groups_outside_a_kernel_are_refused(src: str, line: int, words: str) -> None:
    t = tr(src)
    assert not t.ok
    assert any(r.id == "PCX402" and r.line == line and words in r.message for r in t.remarks), \
        [r.format() for r in t.remarks]


def test_a_group_behind_a_macro_is_refused_where_the_macro_is_used() -> None:
    t = tr("#define SYNC block.sync()\n" + KERNEL.format(body="    v[i] = 1.0f;\n    SYNC;"))
    assert not t.ok
    assert any(r.id == "PCX402" and r.line == 12 and "macro SYNC" in r.message for r in t.remarks), \
        [r.format() for r in t.remarks]


HALVING = HEAD + r"""
#include <stdio.h>

__global__ void halving(int *v)
{
    __shared__ int s[64];
    cg::thread_block block = cg::this_thread_block();
    int r = (int)block.thread_rank();
    s[r] = v[blockIdx.x * 64 + r];
    block.sync();
    int width = (int)block.size() / 2;
    while (width > 0) {
        if (r < width)
            s[r] += s[r + width];
        block.sync();
        width /= 2;
    }
    if (r == 0)
        v[blockIdx.x * 64] = s[0];
}

int main(void)
{
    int h[128], *d;
    for (int i = 0; i < 128; i++) h[i] = i;
    cudaMalloc(&d, sizeof h);
    cudaMemcpy(d, h, sizeof h, cudaMemcpyHostToDevice);
    halving<<<2, 64>>>(d);
    cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost);
    printf("%d %d\n", h[0], h[64]);
    return 0;
}
"""


@needs_clang
def test_block_sync_outside_the_phase_scheme_is_the_parallel_regions_barrier(tmp_path: Path) -> None:
    """A barrier in a while loop keeps the one-team-per-block form: block.sync() is
    ``#pragma omp barrier`` there, as __syncthreads() is."""
    remarks = tr(HALVING).remarks
    assert "not split at its barriers: __syncthreads() inside a while statement" in remarks[0].message
    run = build_and_run(tmp_path, HALVING)
    assert run.stdout == f"{sum(range(64))} {sum(range(64, 128))}\n"
