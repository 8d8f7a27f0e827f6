# CMake toolchain file: compile C with pcx-cc and C++ with pcx-c++.
#
#   cmake -DCMAKE_TOOLCHAIN_FILE=/path/to/pcx-cc/hooks/pcx-toolchain.cmake -S . -B build
#
# The drivers are looked up in this checkout's virtual environment (../.venv/bin), then in
# the active virtual environment ($VIRTUAL_ENV/bin), then on PATH.  pcx-cc finds the real
# compiler itself (PCX_CC / PCX_CXX, pcx.toml, else clang-19, clang, gcc); CMake's compiler
# probes (--version, -E, -v, test programs) pass straight through to it, so CMake
# identifies the real compiler (e.g. "Clang 19.1.7").
#
# Settings reach pcx-cc through the environment (PCX_MODE=static, PCX_REPORT=...) or a
# pcx.toml in the source tree.

get_filename_component(_pcx_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

find_program(PCX_CC_EXECUTABLE NAMES pcx-cc
             HINTS "${_pcx_root}/.venv/bin" "$ENV{VIRTUAL_ENV}/bin")
find_program(PCX_CXX_EXECUTABLE NAMES pcx-c++
             HINTS "${_pcx_root}/.venv/bin" "$ENV{VIRTUAL_ENV}/bin")

if(NOT PCX_CC_EXECUTABLE OR NOT PCX_CXX_EXECUTABLE)
  message(FATAL_ERROR "pcx-toolchain.cmake: pcx-cc/pcx-c++ not found; run `make setup` in "
                      "${_pcx_root} or put the drivers on PATH")
endif()

set(CMAKE_C_COMPILER "${PCX_CC_EXECUTABLE}")
set(CMAKE_CXX_COMPILER "${PCX_CXX_EXECUTABLE}")
