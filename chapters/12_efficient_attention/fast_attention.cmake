# fast_attention_12: chapter 12's tiled attention closer to the machine (vectorised exponentials,
# float32, threads), for bench/bench_12_attention.cpp and chapters/12_efficient_attention/test_fast_attention.cpp. Not part
# of the student's exercise: the chapter's contract, exercise and tests do not use it.
#
# Its one source file has its own flags, so it does not use the shared precompiled header (which
# requires the same flags everywhere): -O3 lets GCC vectorise the exponential loops, -fopenmp-simd
# makes it honour `#pragma omp simd` (reductions) without OpenMP's runtime, -ffp-contract=fast lets it
# fuse a · b + c into one instruction, -fno-trapping-math lets it compute both sides of a `c ? a : b`
# (no value changes: it only says no floating-point exception is watched for; without it, GCC 12 left
# the exponential loops scalar). The AVX2 and baseline versions of the block kernels are chosen
# at run time (target_clones in the source), so no -march flag is needed.
#
# fast_attention_12_baseline is the same file with COURSE_NO_CLONES: the baseline (SSE2) kernels
# only, which this machine would never run otherwise; chapters/12_efficient_attention/programs.cmake tests it too.
find_package(Threads REQUIRED)
foreach(variant IN ITEMS "" "_baseline")
  add_library(fast_attention_12${variant} STATIC
              ${PROJECT_SOURCE_DIR}/chapters/12_efficient_attention/fast_attention.cpp)
  target_include_directories(fast_attention_12${variant}
                             PUBLIC ${PROJECT_SOURCE_DIR}/chapters/12_efficient_attention)
  target_link_libraries(fast_attention_12${variant} PUBLIC course_common Threads::Threads ${BLAS_LIBRARIES})
  target_compile_options(fast_attention_12${variant} PRIVATE -O3 -fopenmp-simd -ffp-contract=fast
                                                             -fno-trapping-math)
endforeach()
target_compile_definitions(fast_attention_12_baseline PRIVATE COURSE_NO_CLONES)
