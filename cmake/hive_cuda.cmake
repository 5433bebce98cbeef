# HIVE_ENABLE_CUDA: the CUDA batch evaluator (inference/cuda/). Defaults to ON when a CUDA
# compiler is found (CUDACXX, nvcc on PATH, or /usr/local/cuda/bin/nvcc), OFF otherwise, so a
# machine without the toolkit builds and tests everything else. Configure with
# -DHIVE_ENABLE_CUDA=OFF to skip the (few seconds long) compiler check altogether.
include(CheckLanguage)

if(NOT DEFINED HIVE_ENABLE_CUDA OR HIVE_ENABLE_CUDA)
  # CMake looks for nvcc on PATH only; the toolkit's installer does not put it there.
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND "$ENV{CUDACXX}" STREQUAL "")
    find_program(HIVE_NVCC nvcc HINTS /usr/local/cuda/bin NO_CACHE)
    if(HIVE_NVCC)
      set(ENV{CUDACXX} ${HIVE_NVCC})
    endif()
  endif()
  check_language(CUDA)
endif()

if(CMAKE_CUDA_COMPILER)
  set(hive_cuda_default ON)
else()
  set(hive_cuda_default OFF)
endif()
option(HIVE_ENABLE_CUDA "Build the CUDA batch evaluator (needs nvcc)" ${hive_cuda_default})

if(HIVE_ENABLE_CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "HIVE_ENABLE_CUDA is ON but no CUDA compiler was found: set CUDACXX "
                        "to nvcc, or configure with -DHIVE_ENABLE_CUDA=OFF")
  endif()
  # Machine code for H100/H200 (sm_90) and PTX that the driver compiles for later GPUs.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 90-real 90-virtual)
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  message(STATUS "CUDA batch evaluator: on (nvcc ${CMAKE_CUDA_COMPILER_VERSION}, "
                 "architectures ${CMAKE_CUDA_ARCHITECTURES})")
else()
  message(STATUS "CUDA batch evaluator: off")
endif()
