// Tests of the shared library in common/: checked .npy input/output, portable random numbers,
// display widths, labels and figures. These are the course's own plumbing, not an exercise.
#include "figures.hpp"
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

  TEST_CASE("labels: numbered(prefix, n) counts from 0") {
    CHECK(numbered("q", 3) == Labels{"q0", "q1", "q2"});
    CHECK(numbered("p=", 2) == Labels{"p=0", "p=1"});
    CHECK(numbered("t", 0).empty());
  }

  TEST_CASE("permute_rows: row i of the result is row perm[i]") {
    const Matrix m = {{1, 2}, {3, 4}, {5, 6}};
    CHECK_CLOSE(permute_rows(m, {2, 0, 1}), Matrix({{5, 6}, {1, 2}, {3, 4}}), 0.0);
  }

  TEST_CASE("figures: heatmap_spec in one expression, with another range and digits") {
    const HeatmapSpec spec =
        heatmap_spec("t", {"a", "b"}, {"x"}, "rows", "cols").with_range(-1, 2).with_decimals(0);
    CHECK(spec.title == "t");
    CHECK(spec.rows == Labels{"a", "b"});
    CHECK(spec.cols == Labels{"x"});
    CHECK(spec.row_axis == "rows");
    CHECK(spec.col_axis == "cols");
    CHECK(spec.vmin == -1.0);
    CHECK(spec.vmax == 2.0);
    CHECK(spec.decimals == 0);
    CHECK(heatmap_spec("u", {}, {}).row_axis == "query");
  }

  TEST_CASE("figures: nothing without --svg; with it, the same bytes as the writer and a list of files") {
    const Matrix m = {{0.25, 0.75}, {1.0, 0.0}};
    const HeatmapSpec spec = heatmap_spec("weights", {"a", "b"}, {"c", "d"});
    TempDir on_dir, direct_dir;
    CommonOptions off;  // no --svg
    Figures none(off);
    none.heatmap("x.svg", m, spec);
    none.line_plot("y.svg", {1, 2}, {{"s", {3, 4}}}, PlotSpec{});
    CHECK_FALSE(none.enabled());
    CHECK(none.written().empty());
    CHECK_FALSE(fs::exists("x.svg"));  // not even in the working directory

    CommonOptions on;
    on.svg_dir = on_dir.str();
    Figures figures(on);
    figures.heatmap("x.svg", m, spec);
    figures.line_plot("y.svg", {1, 2}, {{"s", {3, 4}}}, PlotSpec{});
    CHECK(figures.written() == std::vector<std::string>{"x.svg", "y.svg"});
    write_heatmap_svg(direct_dir.str(), "x.svg", m, spec);
    const auto bytes = [](const fs::path& file) {
      std::ifstream in(file, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    };
    CHECK(bytes(on_dir.path / "x.svg") == bytes(direct_dir.path / "x.svg"));
    CHECK(fs::exists(on_dir.path / "y.svg"));
  }

  TEST_CASE("figures: the patch overlay labels every patch and refuses weights that do not fit") {
    // a 4 x 4 picture in 2 x 2 patches: 4 patches, the weights of patch 3
    const Tensor3 image = xt::ones<double>({3, 4, 4}) * 0.5;
    PatchOverlaySpec spec;
    spec.title = "overlay";
    spec.patch = 2;
    spec.query = 3;
    TempDir dir;
    write_patch_overlay_svg(dir.str(), "o.svg", image, Vector({0.1, 0.2, 0.3, 0.4}), spec);
    std::ifstream in(dir.path / "o.svg");
    const std::string svg((std::istreambuf_iterator<char>(in)), {});
    for (const char* w : {">0.10<", ">0.20<", ">0.30<", ">0.40<"}) CHECK(svg.find(w) != std::string::npos);
    CHECK_THROWS_AS(write_patch_overlay_svg(dir.str(), "o.svg", image, Vector({0.5, 0.5}), spec),
                    std::invalid_argument);
    spec.query = 4;
    CHECK_THROWS_AS(write_patch_overlay_svg(dir.str(), "o.svg", image, Vector({0.1, 0.2, 0.3, 0.4}), spec),
                    std::invalid_argument);
  }

}  // TEST_SUITE
