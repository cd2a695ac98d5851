# Sourced by tools/docs_output.py before each program it runs: run the programs on one OpenBLAS kernel.
#
# The course's products run on OpenBLAS (common/linalg.hpp), which picks a kernel for the CPU it runs
# on, and kernels add a product's terms in different orders: the last bits of a result (a "max error
# 2.2e-16" rather than 1.1e-16, a gradient check's 4.2e-10 rather than 3.1e-10) depend on the kernel.
# Run with OPENBLAS_CORETYPE set to another kernel, pages 03, 05, 07, 08, 11, 12 and 13 showed such
# differences. The pages are made with the Haswell kernel, which needs the AVX2 and FMA instructions
# (Intel's Core processors have had them since Haswell, 2013, AMD's since Excavator, 2015; AVX-512 CPUs
# have them too), so on any CPU with both the pages' checks use it and pass. Elsewhere OpenBLAS chooses,
# and the last digits of those numbers may differ.
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo 2>/dev/null; then
  export OPENBLAS_CORETYPE=Haswell
fi
