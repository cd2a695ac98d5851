// Timing helpers for the programs and benchmarks that measure time (chapter 17's time per token,
// chapter 14's training run, bench/): a stopwatch reading and the median of repeated rounds.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

namespace course {

// The seconds from start to now, on the steady (monotonic) clock.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The median of v: the middle value, or the mean of the two middle ones for an even count (0 for none).
// A round disturbed by the machine's other work is slow, never fast, so the median of a few rounds is
// a steadier time than their mean.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

}  // namespace course
