// A memory meter for chapter 12: counts the bytes that operator new hands out, so the program can
// *measure* how much extra memory naive and tiled attention use instead of asserting it.
//
// Include this header in exactly one .cpp of a program: it replaces the global operator new and
// delete (allowed by the C++ standard) with versions that keep a running total and its peak.
// xtensor containers allocate through std::allocator, hence through operator new, so every Matrix
// is counted.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace course::memory {

// Atomic, because several threads may allocate at once (the benchmark's workers do, the first time
// they run): each += is then one indivisible step, and no count is lost.
inline std::atomic<std::size_t> current_bytes{0};  // bytes allocated now
inline std::atomic<std::size_t> peak_bytes{0};     // the most allocated at once since reset_peak()

// Starts a measurement: the peak becomes what is allocated right now.
inline void reset_peak() {
  peak_bytes = current_bytes.load();
}

// Runs f and returns the most memory it held at once beyond what was allocated before it started
// (its result included, since the result is allocated inside f).
template <class F>
std::size_t extra_bytes_of(F&& f) {
  const std::size_t before = current_bytes;
  reset_peak();
  f();
  return peak_bytes - before;
}

// Each block carries its size in a 16-byte header in front of it (16 keeps the alignment malloc
// gives).
constexpr std::size_t kHeader = 16;

inline void* allocate(std::size_t size) {
  void* raw = std::malloc(size + kHeader);
  if (raw == nullptr) throw std::bad_alloc();
  *static_cast<std::size_t*>(raw) = size;
  const std::size_t now = current_bytes += size;
  // peak = max(peak, now), even if another thread changes peak in between (then try again)
  std::size_t peak = peak_bytes;
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
  }
  return static_cast<char*>(raw) + kHeader;
}

inline void deallocate(void* p) noexcept {
  if (p == nullptr) return;
  void* raw = static_cast<char*>(p) - kHeader;
  current_bytes -= *static_cast<std::size_t*>(raw);
  std::free(raw);
}

}  // namespace course::memory

void* operator new(std::size_t size) {
  return course::memory::allocate(size);
}
void* operator new[](std::size_t size) {
  return course::memory::allocate(size);
}
void operator delete(void* p) noexcept {
  course::memory::deallocate(p);
}
void operator delete[](void* p) noexcept {
  course::memory::deallocate(p);
}
void operator delete(void* p, std::size_t) noexcept {
  course::memory::deallocate(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  course::memory::deallocate(p);
}
