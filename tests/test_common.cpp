// Tests of the shared library in common/: checked .npy input/output, portable random numbers and
// display widths. These are the course's own plumbing, not an exercise.
#include "cli.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

using namespace course;
namespace fs = std::filesystem;

namespace {
// A fresh temporary directory for one test.
struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / fmt::format("course-test-{}", std::random_device{}());
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string str() const { return path.string(); }
};

// Writes a .npy file by hand: header dict text, then raw bytes.
void write_raw_npy(const fs::path& file, const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(file, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xFF), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out << header << data;
}

std::string doubles(std::initializer_list<double> values) {
  std::string bytes;
  for (double v : values) bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  return bytes;
}

// The usage_error message of load_matrix(dir, name), or "" if it loaded.
std::string load_error(const std::string& dir, const std::string& name) {
  try {
    load_matrix(dir, name, "(L, E)");
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_SUITE("common") {
  TEST_CASE("npy: a matrix saved and loaded comes back bit for bit") {
    TempDir dir;
    const Matrix m = {{1.5, -2.25, 1e-300}, {INFINITY, 0.1, 3.0}};
    save_npy(dir.str(), "m", m);
    CHECK(npy_exists(dir.str(), "m"));
    const Matrix back = load_matrix(dir.str(), "m", "(2, 3)");
    REQUIRE_SHAPE(back, {2, 3});
    for (std::size_t i = 0; i < 2; ++i)
      for (std::size_t j = 0; j < 3; ++j) CHECK(back(i, j) == m(i, j));
    // NumPy's layout: 64-byte aligned header, then 6 doubles
    CHECK(fs::file_size(dir.path / "m.npy") == 128 + 6 * 8);
  }

  TEST_CASE("npy: vectors and 3-D tensors round-trip") {
    TempDir dir;
    const Vector v = {1.0, 2.0, 3.0};
    save_npy(dir.str(), "v", v);
    CHECK_CLOSE(load_vector(dir.str(), "v", "(3,)"), v, 0.0);
    Tensor3 t = Tensor3::from_shape({2, 1, 2});
    t(0, 0, 0) = 1;
    t(0, 0, 1) = 2;
    t(1, 0, 0) = 3;
    t(1, 0, 1) = 4;
    save_npy(dir.str(), "t", t);
    const NpyArray a = read_npy((dir.path / "t.npy").string(), "t.npy");
    CHECK(a.shape == std::vector<std::size_t>{2, 1, 2});
    CHECK(a.values == std::vector<double>{1, 2, 3, 4});
    CHECK_CLOSE(load_tensor3(dir.str(), "t", "(2, 1, 2)"), t, 0.0);
    CHECK_THROWS_AS(load_tensor4(dir.str(), "t", "(a, b, c, d)"), usage_error);
    Tensor4 t4 = Tensor4::from_shape({1, 2, 1, 2});
    std::copy(t.begin(), t.end(), t4.begin());
    save_npy(dir.str(), "t4", t4);
    CHECK_CLOSE(load_tensor4(dir.str(), "t4", "(1, 2, 1, 2)"), t4, 0.0);
  }

  TEST_CASE("npy: float32 files are accepted and widened to double") {
    TempDir dir;
    std::string data;
    for (float f : {0.5f, -1.25f}) data.append(reinterpret_cast<const char*>(&f), 4);
    write_raw_npy(dir.path / "f.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", data);
    CHECK_CLOSE(load_matrix(dir.str(), "f", "(1, 2)"), Matrix({{0.5, -1.25}}), 0.0);
  }

  TEST_CASE("npy: bool masks load as bool and only as bool") {
    TempDir dir;
    write_raw_npy(dir.path / "mask.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }",
                  std::string("\x00\x01\x01\x00", 4));
    const BoolMatrix mask = load_bool_matrix(dir.str(), "mask", "(L, S)");
    CHECK((!mask(0, 0) && mask(0, 1) && mask(1, 0) && !mask(1, 1)));
    CHECK(load_error(dir.str(), "mask").find("got bool") != std::string::npos);
    save_npy(dir.str(), "floats", Matrix({{1.0}}));
    CHECK_THROWS_AS(load_bool_matrix(dir.str(), "floats", "(L, S)"), usage_error);
  }

  TEST_CASE("npy: every malformed file is a usage_error that names the file") {
    TempDir dir;
    const std::string ok_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
    write_raw_npy(dir.path / "truncated.npy", ok_dict, doubles({1, 2, 3}));
    write_raw_npy(dir.path / "extra.npy", ok_dict, doubles({1, 2, 3, 4, 5}));
    write_raw_npy(dir.path / "int64.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                  doubles({1, 2, 3, 4}));
    write_raw_npy(dir.path / "bigendian.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }",
                  doubles({1, 2, 3, 4}));
    write_raw_npy(dir.path / "fortran.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                  doubles({1, 2, 3, 4}));
    write_raw_npy(dir.path / "rank1.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                  doubles({1, 2, 3, 4}));
    write_raw_npy(dir.path / "huge.npy",
                  "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000000), }",
                  doubles({1}));
    std::ofstream(dir.path / "text.npy") << "query = [[1, 2], [3, 4]]\n";
    std::ofstream(dir.path / "empty.npy");

    const std::pair<const char*, const char*> cases[] = {
        {"truncated", "truncated"}, {"extra", "extra"},          {"int64", "'<i8' is not supported"},
        {"bigendian", "'>f8'"},     {"fortran", "Fortran"},      {"rank1", "expected a 2-D array"},
        {"huge", "absurdly large"}, {"text", "not a .npy file"}, {"empty", "not a .npy file"},
        {"missing", "cannot open"},
    };
    for (const auto& [name, words] : cases) {
      CAPTURE(name);
      const std::string message = load_error(dir.str(), name);
      CHECK(message.find(std::string(name) + ".npy") != std::string::npos);
      CHECK_MESSAGE(message.find(words) != std::string::npos, "message: ", message);
      CHECK(message.find('\n') == std::string::npos);
    }
  }

  TEST_CASE("npy: require_shape names the file and both shapes") {
    const Matrix m = xt::zeros<double>({2, 3});
    CHECK_NOTHROW(require_shape("key.npy", m, {2, 3}, "(S, E)"));
    try {
      require_shape("key.npy", m, {2, 4}, "(S, E)");
      FAIL("no error");
    } catch (const usage_error& e) {
      CHECK(std::string(e.what()) == "key.npy has shape (2, 3), expected (S, E) = (2, 4)");
    }
  }

  TEST_CASE("rng: draws come from the raw mt19937_64 sequence that the C++ standard fixes") {
    // The standard requires the 10000th output of a default-constructed mt19937_64 to be this value.
    std::mt19937_64 standard;
    standard.discard(9999);
    CHECK(standard() == 9981545732273789042ULL);
    // uniform() is the top 53 bits of one raw draw, scaled by 2^-53: exact, no library distribution.
    std::mt19937_64 raw(42);
    Rng rng(42);
    for (int i = 0; i < 5; ++i) CHECK(rng.uniform() == static_cast<double>(raw() >> 11) * 0x1.0p-53);
  }

  TEST_CASE("rng: the same seed gives the same numbers and normal draws look standard normal") {
    Rng a(7), b(7), c(8);
    CHECK_CLOSE(a.normal_matrix(3, 4), b.normal_matrix(3, 4), 0.0);
    CHECK(max_abs_diff(Rng(7).normal_matrix(3, 4), c.normal_matrix(3, 4)) > 0.1);
    Rng r(1);
    double sum = 0, sum_sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
      const double x = r.normal();
      sum += x;
      sum_sq += x * x;
    }
    CHECK(std::abs(sum / n) < 0.01);           // mean 0 (standard error 0.0022)
    CHECK(std::abs(sum_sq / n - 1.0) < 0.02);  // variance 1 (standard error 0.0032)
  }

  TEST_CASE("rng: permutations hold each index once and below(n) stays below n") {
    Rng rng(3);
    const auto p = rng.permutation(10);
    std::vector<std::size_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < 10; ++i) CHECK(sorted[i] == i);
    for (int i = 0; i < 1000; ++i) CHECK(rng.below(3) < 3);
  }

  TEST_CASE("print: CJK characters take two terminal columns") {
    CHECK(display_width("abc") == 3);
    CHECK(display_width("小明") == 4);
    CHECK(display_width("公园a") == 5);
    CHECK(pad_right("小明", 6) == "小明  ");
    CHECK(pad_left("的", 3) == " 的");
  }

}  // TEST_SUITE

// The shared limits on time and memory (common/cli.hpp): every chapter program estimates its cost
// from its sizes and refuses, before working, what would take more than a few seconds or 1 GiB.
namespace {
// A program's options in miniature: the cost grows as rows x cols.
struct GridOptions {
  int rows = 10;
  int cols = 5;
};
Cost grid_cost(const GridOptions& o) {
  return {8.0 * o.rows * o.cols, 1e4 * o.rows * o.cols};
}
// Costs whose limit is memory, or that never fit, or always fit.
Cost memory_bound_cost(const GridOptions& o) {
  return {1e6 * o.rows, 1.0};
}
Cost never_fits(const GridOptions&) {
  return {0.0, 2.0 * work_limit};
}
Cost always_fits(const GridOptions&) {
  return {};
}

// The message of the usage_error f throws, or "" if it throws none.
template <class F>
std::string usage_message(F&& f) {
  try {
    f();
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}
}  // namespace

TEST_SUITE("limits") {
  TEST_CASE("require_work: up to work_limit passes; above it, a usage_error with the count and the time") {
    CHECK(usage_message([] { require_work(work_limit, "exactly the limit"); }) == "");
    const std::string message = usage_message([] { require_work(6.3e10, "--samples 100000"); });
    INFO(message);
    CHECK(contains(message, "--samples 100000 would take 6.3e+10 multiply-adds"));
    CHECK(contains(message, fmt::format("about {:.0f} s", 6.3e10 * seconds_per_multiply_add)));
    CHECK(contains(message, "more than the limit of 2e+09"));
    CHECK(usage_message([] { require_work(3e9, "x", 4e9); }) == "");  // a wider limit
  }

  TEST_CASE("require_within_limits: memory first, then work; the benchmarks' limits are wider") {
    const double gib = 1024.0 * 1024.0 * 1024.0;
    const std::string memory = usage_message([&] { require_within_limits({2 * gib, 3e9}, "--n 9"); });
    INFO(memory);
    CHECK(contains(memory, "--n 9 would need 2.0 GiB, more than the limit of 1.0 GiB"));
    const std::string work = usage_message([] { require_within_limits({1.0, 3e9}, "--n 8"); });
    CHECK(contains(work, "--n 8 would take 3.0e+09 multiply-adds"));
    CHECK(usage_message([&] { require_within_limits({2 * gib, 3e9}, "--n 9", benchmark_limits); }) == "");
    CHECK(usage_message([] { require_within_limits({memory_limit_bytes, work_limit}, "edge"); }) == "");
    CHECK(within_limits({memory_limit_bytes, work_limit}));
    CHECK_FALSE(within_limits({memory_limit_bytes + 1, work_limit}));
    CHECK_FALSE(within_limits({memory_limit_bytes, work_limit * 1.000001}));
  }

  TEST_CASE("largest_within_limits: a flag's maximum is the last value that fits, others at defaults") {
    // work 1e4 x rows x 5 <= 2e9 up to rows = 40000; cols with rows = 10: up to 20000
    const int rows = largest_within_limits(&GridOptions::rows, grid_cost);
    CHECK(rows == static_cast<int>(work_limit / (1e4 * 5)));
    CHECK(within_limits(grid_cost({rows, 5})));
    CHECK_FALSE(within_limits(grid_cost({rows + 1, 5})));
    CHECK(largest_within_limits(&GridOptions::cols, grid_cost) == static_cast<int>(work_limit / (1e4 * 10)));
    // limited by memory: 1e6 bytes per row
    CHECK(largest_within_limits(&GridOptions::rows, memory_bound_cost) ==
          static_cast<int>(memory_limit_bytes / 1e6));
    // the bounds: low when nothing fits (the run then refuses it with the numbers), high when all do
    CHECK(largest_within_limits(&GridOptions::rows, never_fits, 7) == 7);
    CHECK(largest_within_limits(&GridOptions::rows, always_fits, 1, 12345) == 12345);
    // the benchmarks' limits give more room
    CHECK(largest_within_limits(&GridOptions::rows, grid_cost, 1, 1 << 30, benchmark_limits) ==
          static_cast<int>(benchmark_limits.multiply_adds / (1e4 * 5)));
  }

  TEST_CASE("add_size_option with a reason: the range ends and why, in --help and in the error") {
    CLI::App app{"test", "test"};
    int samples = 12;
    add_size_option(app, "--samples", samples, "Queries", 10, 20, "at least 10: fewer are too noisy");
    const std::string help = app.help();
    INFO(help);
    CHECK(contains(help, "[10 - 20]"));
    CHECK(contains(help, "Queries (at least 10: fewer are too noisy)"));
    for (const char* bad : {"--samples 3", "--samples 21"}) {
      std::string error;
      try {
        app.parse(bad, false);
      } catch (const CLI::ParseError& e) {
        error = e.what();
      }
      INFO(bad, " -> ", error);
      CHECK(contains(error, "out of range: it must be between 10 and 20 (at least 10: fewer are too noisy)"));
    }
    app.parse("--samples 15", false);
    CHECK(samples == 15);
  }
}  // TEST_SUITE
