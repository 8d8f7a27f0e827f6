"""Every diagnostic pcx-cc prints, in one table.

Each ID is stable (users grep for it, reports carry it) and has a level and one line of
documentation; ``pcx explain PCX101`` prints it.  Ranges:

    PCX0xx  driver and input handling
    PCX1xx  loop analysis (why a nest was or was not offloaded)
    PCX13x  C++ constructs
    PCX14x  loop analysis, continued (array privatisation, loops in device functions)
    PCX2xx  data-movement planning
    PCX3xx  correctness gate, profiling and tuning
    PCX4xx  CUDA translation
    PCX5xx  LLM rewriter plugin

Add new IDs in order, inside the range of the stage that emits them; never renumber.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RemarkSpec:
    id: str
    level: str  # "remark", "warning" or "error" (as a compiler prints it)
    summary: str  # one line of documentation


#: What a user can do about a remark (``pcx explain`` prints it under the summary): only
#: changes that pcx really takes into account.
ADVICE: dict[str, str] = {
    "PCX014": "pcx analyses the file the compiler is given, not the sources it includes.  Compile the "
              "included file as a translation unit of its own (its functions declared in a header), and "
              "pcx analyses its loops there.",
    "PCX015": "Nothing to do: the rewritten source only writes out the 'int' that the definition implies.  "
              "Writing it in your source (int main(void)) removes the remark and lets newer compilers, which "
              "reject implicit int in C99 and later, build the file without -Wno-error=implicit-int.",
    "PCX016": "Write the code there as plain C (a macro that expands to a function header or to unbalanced "
              "braces is what the syntax reader cannot follow); the compiler itself is not affected.",
    "PCX017": "Rename the macro (or #undef it before the loops): '#pragma omp' lines are macro-expanded, "
              "so '#define from src' turns 'map(from: a[0:n])' into 'map(src: a[0:n])'.",
    "PCX018": "Move the functions with the loops into a source file of their own (declared in the header) "
              "and compile it: pcx analyses the file a compile is given, not the headers it includes.",
    "PCX019": "Nothing to do: the command line has no -fopenmp, so the source's OpenMP pragmas do nothing in your "
               "build; pcx keeps it so.  Add -fopenmp to your flags if you want them to run (pcx then ports the "
               "parallel loops it proves to the device).",
    "PCX020": "Build without the option for pcx (-save-temps keeps temporaries named after pcx's temp copy; "
              "-MJ and -Wp,-MD,file would name it too), or name the source on the command line rather than "
              "only in a response file.",
    "PCX101": "If the iterations are independent in fact (the dependence is only on paper), rewrite the "
              "loop so that each iteration writes its own elements (a temporary per iteration, a separate "
              "output array); a sum or minimum into one element is recognised as a reduction when it is a "
              "scalar, and updates a[e] += v or a[e] = a[e] + v are made atomic (PCX117) when every access "
              "to the array is one.  A true recurrence (Gauss-Seidel, a triangular solve) stays serial.",
    "PCX102": "Write the subscript as an affine function of the loop indices (i * n + j, not i * j); a "
              "scalar set once at the top of the body from the indices counts as its value.",
    "PCX103": "A scatter through an index array cannot be proved conflict-free: write a[idx[i]] += v (made "
              "atomic, PCX117) if the writes accumulate, or keep the loop serial.",
    "PCX104": "Mark the pointers restrict, allocate them separately in the same file, or build the "
              "program from this one source (pcx-cc main.c -o prog): pcx then compares the calls.",
    "PCX105": "Define the called function in this source file (a static or inline helper); pcx walks its "
              "body.  A helper in a header it includes is taken when it is one return of an expression over "
              "scalar parameters and libm calls (FABS, SQRT, sq).  Library calls other than libm stay on the host.  An OpenMP runtime call (omp_get_thread_num, omp_get_team_num) in serial code written for CPU threads: replace it with the value the serial program sees (0, or 1 for the counts), or keep the loop on the host.",
    "PCX106": "Move printf and other I/O out of the loop (collect into an array, print after it).",
    "PCX108": "Replace the early exit with a flag or a bound computed before the loop.  A check that "
              "leaves the program (if (v[k] <= 0) exit(1);) is taken as it is when the call is a statement "
              "of its own under ifs in the outer loop's body, every such call is the same statement, and "
              "its status does not change in the loop: the program then leaves after the kernel.",
    "PCX110": "Write the loop as for (i = start; i < bound; i++) (or += constant) with bounds that do not "
              "change inside it, and a fresh index that no enclosing loop shares.",
    "PCX112": "Declare the scalar inside the loop body, or give it a value at the top of every iteration; "
              "a value needed after the loop must be recomputed there.  A minimum or maximum that takes the "
              "element where the comparison fails (m = m < e ? m : e) is a reduction only in a loop that "
              "writes nothing else: it may run again as written where a NaN or a tie of zeros met it.",
    "PCX113": "Only function-like macros that expand to an expression over their arguments are read through; "
              "use an inline function instead of a macro with statements, assignments or globals.",
    "PCX114": "Keep #if/#ifdef lines outside the loop nest.",
    "PCX115": "The work per launch is small or its copies cost more than it saves: run with larger sizes, "
              "lower --pcx-min-work (PCX_MIN_WORK, pcx.toml) if your device launches cheaply, or keep the "
              "data on the device across the serial loop (no host code that needs the array between kernels).",
    "PCX116": "Give the array an extent pcx can see: a declared size, a malloc/new of n elements in the same "
              "function, or, for a pointer parameter, calls in this file (a static function, or a program "
              "built from this one source) that pass allocations whose size is another argument.  Failing "
              "that, a call written as a statement of its own (`f(a, n);`) that passes a local allocation "
              "whose count the caller never changes hands that count over at run time; calls inside "
              "expressions, through pointers or from other files run the loop as written.",
    "PCX117": "Nothing to do: the updates run as atomics.  A separate array per iteration block (and a sum "
              "after) is faster on a GPU when contention is high.",
    "PCX118": "Access the array through a plain pointer or array variable (copy p->a to a local pointer "
              "before the loop); a pointer declared in the loop into an array (row = A + i * m) is read as "
              "A, if nothing moves it or passes it on; an array of pointers to rows cannot be mapped, one "
              "contiguous block can.  A std::vector member reached through an element accessor "
              "(Real_t& x(Index_t i) { return m_x[i]; }) is read as that member, when every access in the "
              "loop goes through the one accessor and none sits under a condition (hoist the test into a "
              "local: t = d.x(i); if (c) t = 0; d.x(i) = t;).",
    "PCX128": "Mark the pointers restrict (or pass distinct allocations from a static function's only calls) "
              "to drop the run-time check.",
    "PCX137": "Keep the data in a separately allocated array the object points to (a pointer member, "
              "mapped as this->a[0:n]), and accumulate into a local, assigned to the member after the loop.",
    "PCX136": "Instantiate the template with arithmetic types in this file (a call such as f<double>(...), "
              "directly or from another template that is instantiated so), or with a class that has no "
              "data members (a policy object whose methods are helpers).  A member function of a class "
              "template is not followed into its class's instantiations: move the loop into a function "
              "template (or plain function) that the member calls with its arrays.",
    "PCX141": "Nothing to do: the loop runs inside the calling kernels on the device.",
    "PCX143": "Nothing to do: a build for a GPU (--pcx-offload-target=nvptx64-nvidia-cuda or amdgcn-amd-amdhsa) "
              "collapses every loop the analysis proved; pcx tune measures other depths.",
    "PCX144": "Nothing to do: a GPU build keeps the atomic updates; a section longer than 128 KiB, or of a "
              "length known only at run time, keeps them on a CPU device too.",
    "PCX145": "Use double in the loop (convert the long double values before and after it) if its precision "
               "is enough: nvptx and amdgcn builds have no 128-bit floating type.",
    "PCX146": "Move the loop to a file that starts no threads, called from one thread at a time, whose "
              "arrays no other thread writes while it runs: a kernel copies back the whole section it "
              "mapped, and kernels that threads launch at once must not map overlapping sections.",
    "PCX147": "Nothing to do: the test costs one comparison per launch.  Where the rows always fit (a "
              "width never larger than the pitch), loops over the same name (for (j = 0; j < pitch; j++)) "
              "need no test.",
    "PCX148": "Keep the floating-point environment out of the file that holds the loop: test the "
              "exception flags (or set the rounding mode) in another file, around calls of it, or check the "
              "values themselves (isfinite, isnan) after the loop.",
    "PCX149": "Do the work outside the handler: let the handler set a volatile sig_atomic_t flag, and run "
              "the loop from the main program when it sees the flag.",
    "PCX150": "Run the loop before main returns (at the end of main, or from an atexit handler, which runs "
              "before the offload runtime shuts down), or keep the destructor's work small enough for the host.",
    "PCX142": "Nothing to do: a graph without negative cycles keeps the pivot row and column fixed, and the "
              "kernel runs in parallel; with one, that step runs as written.",
    "PCX401": "Write the warp function in the kernel (or in a __device__ helper called as a statement of its "
              "own or a declaration's value, which is inlined), as the whole right-hand side of an assignment, "
              "in code every thread of the block reaches the same number of times.",
    "PCX406": "Of the toolkit libraries, cuRAND's device API for curandState (XORWOW) and a cuBLAS subset "
              "(<cublas_v2.h>: S/D gemm, gemmStridedBatched, gemv, axpy, dot, scal, nrm2, copy) are "
              "translated; replace other calls with your own kernels or loops.",
    "PCX202": "Nothing to do: the section covers more than the accesses (a declared or allocated extent); "
              "exact loop bounds make it tighter.  Where the calls hand an extent over, call the function as "
              "a statement of its own with the allocation itself, so that every call runs on the device.",
    "PCX203": "Keep host code between kernels from moving or storing the arrays' pointers, and from calling "
              "functions in other files with them; the remark names the statement that stopped the region.",
}


REMARKS: dict[str, RemarkSpec] = {
    s.id: s
    for s in [
        # -- driver and input ------------------------------------------------------------
        RemarkSpec("PCX001", "warning", "internal error in a pcx stage; the original source was compiled unchanged"),
        RemarkSpec("PCX002", "remark", "source is not valid UTF-8; analysed with its undecodable bytes kept as they are"),
        RemarkSpec("PCX003", "remark", "source already uses OpenMP directives; left as it is"),
        RemarkSpec("PCX004", "remark", "source has syntax errors; not analysed, the compiler reports them"),
        RemarkSpec("PCX005", "remark", "source is larger than the analysis limit; compiled unchanged"),
        RemarkSpec("PCX006", "warning", "plugin failed to load; continuing without it"),
        RemarkSpec("PCX007", "remark", "rewritten source failed to compile; the original source was compiled instead"),
        RemarkSpec("PCX008", "remark", "a cached validated plan was applied"),
        RemarkSpec("PCX009", "remark", "no validated plan for this source (--pcx-mode=validated); compiled unchanged"),
        RemarkSpec("PCX010", "warning", "pcx.toml could not be read, or has a bad value or an unknown key; that part is ignored"),
        RemarkSpec("PCX011", "warning", "pcx.toml is not trusted: its settings that run programs or write files are ignored (pcx trust DIR)"),
        RemarkSpec("PCX012", "warning", "analysis ran past its time or memory budget; the original source was compiled unchanged"),
        RemarkSpec("PCX013", "remark", "a source with OpenMP and #if/#ifdef: the branches these flags do not compile (if any), and the conditional directive lines, are left out of the analysis and of the rewritten source (the compiled program is the same)"),
        RemarkSpec("PCX014", "remark", "a source file (.c, .cc, .cpp) is #included: its loops are not analysed"),
        RemarkSpec("PCX015", "remark", "old C: a function defined without a return type (C89's implicit int) is read, and compiled, with its 'int' written out (the program is the same)"),
        RemarkSpec("PCX016", "remark", "the syntax reader could not follow part of the source outside any function it read (a macro that hides C syntax, an extension): loops there are not analysed"),
        RemarkSpec("PCX017", "remark", "a macro is named like a word of the OpenMP directives pcx writes (from, map, ...): the preprocessor would rewrite them, so the file is compiled as written"),
        RemarkSpec("PCX018", "remark", "a header the source includes defines functions with loops, which pcx does not analyse there: they stay as written"),
        RemarkSpec("PCX019", "remark", "the source's OpenMP pragmas are blanked: the command line compiles without OpenMP, where they do nothing, and pcx's OpenMP switch must not run them"),
        RemarkSpec("PCX020", "remark", "source compiled unchanged: the command has an option pcx cannot keep the meaning of when it compiles a rewritten copy (-save-temps, -MJ, -Wp,...), or names the source only inside a response file"),
        # -- loop analysis ---------------------------------------------------------------
        RemarkSpec("PCX100", "remark", "loop nest offloaded to the device"),
        RemarkSpec("PCX101", "remark", "loop-carried dependence on an array prevents parallel execution"),
        RemarkSpec("PCX102", "remark", "subscript is not an affine function of the loop indices; independence cannot be proved"),
        RemarkSpec("PCX103", "remark", "write through an indirect subscript (a[idx[i]]) may conflict between iterations"),
        RemarkSpec("PCX104", "remark", "pointers may alias (not restrict, not provably distinct allocations)"),
        RemarkSpec("PCX105", "remark", "call to a function with side effects or without a visible definition"),
        RemarkSpec("PCX106", "remark", "input/output call inside the nest"),
        RemarkSpec("PCX107", "remark", "memory allocation or deallocation inside the nest"),
        RemarkSpec("PCX108", "remark", "early exit (break, return, goto) leaves the nest"),
        RemarkSpec("PCX109", "remark", "loop index written inside the body"),
        RemarkSpec("PCX110", "remark", "loop is not in canonical form (init; index < bound; index += step, "
                   "step a compile-time integer), or its index shadows an enclosing loop's"),
        RemarkSpec("PCX111", "remark", "loop bound or step changes inside the nest"),
        RemarkSpec("PCX112", "remark", "scalar carries a value between iterations (neither private nor a reduction)"),
        RemarkSpec("PCX113", "remark", "loop comes from a macro expansion; left alone"),
        RemarkSpec("PCX114", "remark", "loop is in a preprocessor branch that is not compiled, holds a "
                   "preprocessor line other than a loop hint, or follows its own #pragma unroll; left alone"),
        RemarkSpec("PCX115", "remark", "too little work to pay for an offload"),
        RemarkSpec("PCX116", "remark", "extent of an array cannot be determined; its data cannot be mapped"),
        RemarkSpec("PCX117", "remark", "histogram update made atomic (#pragma omp atomic)"),
        RemarkSpec("PCX118", "remark", "access through a struct member or pointer chain that cannot be analysed"),
        RemarkSpec("PCX119", "remark", "volatile object or object whose address escapes is used in the nest"),
        RemarkSpec("PCX120", "remark", "nest is already inside an OpenMP construct"),
        RemarkSpec("PCX121", "remark", "global variable written or read on the device without a known extent"),
        RemarkSpec("PCX122", "remark", "loop nest not analysed (unsupported statement in the body)"),
        RemarkSpec("PCX123", "remark", "loop nest kept on the host by a plugin or at the user's request"),
        # sources that already use OpenMP (engine/ompport.py)
        RemarkSpec("PCX124", "remark", "the user's OpenMP 'parallel for' ported to the device (its pragma replaced by a target construct)"),
        RemarkSpec("PCX125", "warning", "the user's OpenMP pragma ignores a loop-carried dependence or a race the analysis found; loop kept on the CPU with its pragma"),
        RemarkSpec("PCX126", "remark", "the user's OpenMP loop kept on the CPU as written: pcx cannot confirm the pragma's claim, and does not offload on it alone"),
        RemarkSpec("PCX127", "remark", "loop inside, around or called from an OpenMP construct pcx does not port (barrier, single, critical, ordered, tasks, atomics, locks, thread-number-dependent work); kept on the CPU"),
        RemarkSpec("PCX128", "remark", "loop or data region versioned at run time: the device version runs when the address ranges of pointers that may alias are disjoint (or, for two only read, the same), the statements as written otherwise"),
        RemarkSpec("PCX129", "remark", "the user's OpenMP loop offloaded on its pragma's word: a subscript pcx cannot analyse, trusted under --pcx-trust-pragmas (pcx tune sets it and its gate checks the result)"),
        # -- C++ -------------------------------------------------------------------------
        RemarkSpec("PCX130", "remark", "lambda or function object called inside the nest"),
        RemarkSpec("PCX131", "remark", "virtual call inside the nest"),
        RemarkSpec("PCX132", "remark", "exceptions (throw/try) inside the nest"),
        RemarkSpec("PCX133", "remark", "new/delete inside the nest"),
        RemarkSpec("PCX134", "remark", "iostream use inside the nest"),
        RemarkSpec("PCX135", "remark", "container that may grow or reallocate inside the nest"),
        RemarkSpec("PCX136", "remark", "loop in a function template with an instantiation that cannot be offloaded"),
        RemarkSpec("PCX137", "remark", "member function loop over members that cannot be mapped apart from the object (a member array inside it, a member written, a member passed on)"),
        RemarkSpec("PCX140", "remark", "array private to each iteration of the offloaded loops: every iteration writes the elements it reads first, in its own copy (a constant-size array, the declared extent), and the last iteration copies them back; the loop runs as written when the range does not fit that extent"),
        RemarkSpec("PCX141", "remark", "loop in a function that offloaded kernels call: it runs inside those kernels, on the device, and is not a kernel of its own (a target construct inside a target region is unspecified in OpenMP)"),
        RemarkSpec("PCX142", "remark", "min-plus relaxation through a pivot (Floyd-Warshall): the loops are parallel while the pivot's own element is not negative, tested on the device before each launch; the loop runs as written, on one device thread, where it fails"),
        RemarkSpec("PCX143", "remark", "collapse narrowed for a CPU device: the innermost loop stays whole (vectorised), the outer loops are shared among the cores"),
        RemarkSpec("PCX144", "remark", "histogram updates reduced into a copy of a small section per thread (reduction over an array section) instead of atomics, for a CPU device"),
        RemarkSpec("PCX145", "remark", "the nest uses a type GPU targets do not have (long double, __float128)"),
        RemarkSpec("PCX146", "remark", "the file starts threads: its loops stay on the host (kernels launched from several threads may map overlapping sections, or copy back over another thread's writes)"),
        RemarkSpec("PCX147", "remark", "flattened subscripts (a[i * pitch + j]) split into rows that lie apart only while each row's range fits in its stride (j < width <= pitch): tested at run time, the loop runs on the device where it does, as written otherwise"),
        RemarkSpec("PCX148", "remark", "the file uses the floating-point environment (fetestexcept, fesetround, FENV_ACCESS, -frounding-math): its loops stay on the host, where the exception flags and the rounding mode are the program's"),
        RemarkSpec("PCX149", "remark", "loop in a signal handler, or in a function a handler calls: it stays on the host, where the signal interrupts host code"),
        RemarkSpec("PCX150", "remark", "loop in a destructor function (__attribute__((destructor))), or in a function one calls: it runs after main returns, when the offload runtime may already be shut down, so it stays on the host"),
        # -- data planning ---------------------------------------------------------------
        RemarkSpec("PCX200", "remark", "target data region keeps arrays on the device across kernels"),
        RemarkSpec("PCX201", "remark", "target update inserted where host code reads or writes device data"),
        RemarkSpec("PCX202", "remark", "array section over-approximated to cover all accesses"),
        RemarkSpec("PCX203", "remark", "data region not formed (pointer reassigned or escapes between kernels)"),
        RemarkSpec("PCX204", "remark", "nest not rewritten: no place to insert its directive soundly; kept serial"),
        RemarkSpec("PCX205", "remark", "bytes a data region moves, next to a naive plan that maps each kernel's arrays tofrom at every launch"),
        # plan checker (engine/plancheck/): the data plan failed a check and was demoted
        RemarkSpec("PCX210", "remark", "plan check: a kernel would read device data that is undefined or older than the host's; region dropped or nest kept serial"),
        RemarkSpec("PCX211", "remark", "plan check: host code would read data whose current value is only on the device; region dropped or nest kept serial"),
        RemarkSpec("PCX212", "remark", "plan check: a copy to the host would overwrite newer host data or bring back undefined device data; region dropped or nest kept serial"),
        RemarkSpec("PCX213", "remark", "plan check: a copy to the device would overwrite newer device data; region dropped or nest kept serial"),
        RemarkSpec("PCX214", "remark", "plan check: results a kernel wrote would be dropped with the device copy while the host still needs them; region dropped or nest kept serial"),
        RemarkSpec("PCX215", "remark", "plan check: a map would extend a present mapping, presence differs between paths, or a kernel uses unmapped data; region dropped or nest kept serial"),
        RemarkSpec("PCX216", "remark", "plan check: the plan cannot be checked (a jump out of a region, a stored pointer into mapped data, bounds that change while mapped); region dropped or nest kept serial"),
        # -- gate, profile, tune ---------------------------------------------------------
        RemarkSpec("PCX300", "remark", "offload plan passed the correctness gate"),
        RemarkSpec("PCX301", "warning", "offloaded program output differs from the serial program"),
        RemarkSpec("PCX302", "warning", "pointer used on the device without a mapping"),
        RemarkSpec("PCX303", "warning", "offloaded program crashed or exited with a different status"),
        RemarkSpec("PCX304", "warning", "run timed out"),
        RemarkSpec("PCX305", "remark", "kernel demoted to serial after failing the gate"),
        RemarkSpec("PCX306", "remark", "tuning variant kept (faster and correct)"),
        RemarkSpec("PCX307", "warning", "cached plan is corrupt or foreign; ignored"),
        RemarkSpec("PCX308", "error", "emitted directive is not portable OpenMP 5.0/5.1 (5.2-only or vendor syntax, or a known miscompiled form)"),
        RemarkSpec("PCX309", "remark", "kernel demoted (or plan not kept): measured slower than the serial code it replaces"),
        # -- CUDA ------------------------------------------------------------------------
        RemarkSpec("PCX400", "remark", "CUDA kernel translated to an OpenMP target loop"),
        RemarkSpec("PCX401", "error", "a warp function (shuffle, vote, cg::reduce) where the barrier-phase translation cannot place it"),
        RemarkSpec("PCX402", "error", "cooperative groups other than the thread block and its tiles (or used outside a kernel) are not supported"),
        RemarkSpec("PCX403", "error", "texture and surface objects are not supported"),
        RemarkSpec("PCX404", "error", "dynamic parallelism (kernel launch from device code) is not supported"),
        RemarkSpec("PCX405", "error", "atomic operation without an OpenMP equivalent"),
        RemarkSpec("PCX406", "error", "CUDA runtime API or toolkit library name without a translation"),
        RemarkSpec("PCX407", "error", "CUDA construct not supported by the translator"),
        RemarkSpec("PCX408", "error", "a project header holds CUDA code: translate the program into a directory (pcx translate main.cu -o OUTDIR/)"),
        RemarkSpec("PCX409", "error", "Thrust and CUB algorithms and containers are not translated (beyond the Thrust subset of PCX410)"),
        RemarkSpec("PCX411", "warning", "a quoted #include the translator cannot find: the CUDA code it may hold is not translated (pass its directory with -I)"),
        RemarkSpec("PCX410", "remark", "Thrust algorithm translated to OpenMP target loops (reduce, transform, count, fill, sequence, scans, copy over device_vector, device_ptr or raw pointers with thrust::device; sort, sort_by_key and partition staged through the host)"),
        # -- LLM -------------------------------------------------------------------------
        RemarkSpec("PCX500", "remark", "LLM rewrite accepted after passing the gate"),
        RemarkSpec("PCX501", "remark", "LLM rewrite rejected"),
        RemarkSpec("PCX502", "warning", "LLM endpoint failed"),
    ]
}


def level_of(remark_id: str) -> str:
    spec = REMARKS.get(remark_id)
    return spec.level if spec else "remark"


def explain(remark_id: str) -> str:
    spec = REMARKS.get(remark_id.upper())
    if spec is None:
        raise KeyError(remark_id)
    advice = ADVICE.get(spec.id)
    return f"{spec.id} ({spec.level}): {spec.summary}" + (f"\n  What you can do: {advice}" if advice else "")
