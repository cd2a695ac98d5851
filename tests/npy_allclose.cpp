// npy_allclose A.npy B.npy [TOL]
// Compares two .npy files (float64, float32 or bool) element by element: same shape, and
// max |a - b| <= TOL (default 1e-9). Prints the max difference; exits 0 when they agree, 1 when they
// do not, 2 when a file cannot be read. Used by the interop tests (tools/check_interop.sh).
#include "npy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    std::fprintf(stderr, "usage: npy_allclose A.npy B.npy [TOL]\n");
    return 2;
  }
  try {
    const course::NpyArray a = course::read_npy(argv[1], argv[1]);
    const course::NpyArray b = course::read_npy(argv[2], argv[2]);
    const double tol = argc == 4 ? std::stod(argv[3]) : 1e-9;
    if (a.shape != b.shape) {
      fmt::print("{}: shape ({}) but expected ({})\n", argv[1], fmt::join(a.shape, ", "),
                 fmt::join(b.shape, ", "));
      return 1;
    }
    double max_diff = 0.0;
    std::size_t worst = 0;
    for (std::size_t i = 0; i < a.values.size(); ++i) {
      const double d = std::abs(a.values[i] - b.values[i]);
      if (!(d <= max_diff)) {  // also catches NaN
        max_diff = d;
        worst = i;
      }
    }
    const bool ok = max_diff <= tol;
    fmt::print("{}: shape ({}), max |difference| {:.3g} (tolerance {:.0e}) {}\n", argv[1],
               fmt::join(a.shape, ", "), max_diff, tol, ok ? "OK" : "FAIL");
    if (!ok) fmt::print("  worst at flat index {}: {} vs {}\n", worst, a.values[worst], b.values[worst]);
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npy_allclose: error: %s\n", e.what());
    return 2;
  }
}
