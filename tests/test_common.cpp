// Tests of the shared library in common/: checked .npy input/output, portable random numbers,
// display widths, labels and figures. These are the course's own plumbing, not an exercise.
#include "cli.hpp"
#include "figures.hpp"
#include "files.hpp"
#include "linalg.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "pytorch.hpp"
#include "rng.hpp"
#include "test_util.hpp"

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <cblas.h>     // openblas_get_num_threads
#include <sys/stat.h>  // mkfifo
#include <unistd.h>    // dup, dup2: capturing stdout

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

// The usage_error message of f(), or "" if it did not throw one.
template <class F>
std::string error_of(F f) {
  try {
    f();
  } catch (const usage_error& e) {
    return e.what();
  }
  return "";
}

// The usage_error message of load_matrix(dir, name), or "" if it loaded.
std::string load_error(const std::string& dir, const std::string& name) {
  return error_of([&] { load_matrix(dir, name, "(L, E)"); });
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The one-line message CLI11's parse of ARGS gives through plain_parse_error, or "" if it parsed.
std::string parse_message(std::vector<std::string> args) {
  CLI::App app("test", "ch99_test");
  CommonOptions common;
  int heads = 1;
  add_common_options(app, common, true);
  add_size_option(app, "--heads", heads, "heads", 16);
  std::vector<char*> argv;
  std::string name = "ch99_test";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    return plain_parse_error(e);
  }
  return "";
}
}  // namespace

TEST_SUITE("common") {
  TEST_CASE("npy: a matrix saved and loaded comes back bit for bit") {
    TempDir dir;
    const Matrix m = {{1.5, -2.25, 1e-300}, {-1e15, 0.1, 4.9e-324}};
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
    CHECK(load_error(dir.str(), "mask") ==
          "mask.npy: expected float64 ('<f8') or float32 ('<f4'), found bool ('|b1')");
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
        {"truncated", "truncated"},       {"extra", "extra"},
        {"int64", "found int64 ('<i8')"}, {"bigendian", "big-endian float64 ('>f8')"},
        {"fortran", "Fortran"},           {"rank1", "expected a 2-D array"},
        {"huge", "more than the limit"},  {"text", "not a .npy file"},
        {"empty", "not a .npy file"},     {"missing", "cannot open"},
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

  TEST_CASE("npy: anything but a regular file is refused by name, before it is opened") {
    // Opening a FIFO blocks until a writer comes; /dev/zero never ends; a directory cannot be read;
    // a symlink loop cannot be followed. Each is one usage_error naming the file and what is there.
    TempDir dir;
    fs::create_directory(dir.path / "directory.npy");
    REQUIRE(mkfifo((dir.path / "fifo.npy").c_str(), 0600) == 0);
    fs::create_symlink("/dev/zero", dir.path / "zero.npy");
    fs::create_symlink(dir.path / "loop.npy", dir.path / "loop.npy");
    fs::create_symlink(dir.path / "a.npy", dir.path / "b.npy");
    fs::create_symlink(dir.path / "b.npy", dir.path / "a.npy");
    fs::create_symlink(dir.path / "nothing_here", dir.path / "dangling.npy");
    const std::pair<const char*, const char*> cases[] = {
        {"directory", "is a directory"},
        {"fifo", "is a FIFO"},
        {"zero", "is a character device"},
        {"loop", "Too many levels of symbolic links"},
        {"a", "Too many levels of symbolic links"},
        {"dangling", "No such file or directory"},
    };
    for (const auto& [name, words] : cases) {
      CAPTURE(name);
      // an optional input that is there but unusable is reported, not silently skipped
      CHECK(npy_exists(dir.str(), name));
      for (const std::string& message :
           {load_error(dir.str(), name), error_of([&] { load_bool_vector(dir.str(), name, "(S,)"); }),
            error_of([&] { read_npy((dir.path / (std::string(name) + ".npy")).string(), "x.npy"); })}) {
        CHECK_MESSAGE(contains(message, words), "message: ", message);
        CHECK(message.find('\n') == std::string::npos);
      }
      CHECK(contains(load_error(dir.str(), name), std::string(name) + ".npy"));
    }
    CHECK(contains(error_of([] { read_npy("/dev/zero", "zero.npy"); }),
                   "zero.npy: /dev/zero is a character device"));
    CHECK_FALSE(npy_exists(dir.str(), "absent"));
  }

  TEST_CASE("files: the checked opener refuses what is not a regular file, or too large, by name") {
    TempDir dir;
    std::ofstream(dir.path / "poems.txt") << "静夜思\n";
    REQUIRE(mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
    CHECK(read_text_file((dir.path / "poems.txt").string(), "--data", 100) == "静夜思\n");
    const auto refused = [&](const std::string& path, std::uintmax_t max_bytes, const std::string& words) {
      const std::string message = error_of([&] { read_text_file(path, "--data", max_bytes, "install it"); });
      CHECK_MESSAGE((contains(message, "--data: ") && contains(message, words)), message);
    };
    refused((dir.path / "fifo").string(), 100, "is a FIFO (named pipe), not a regular file");
    refused("/dev/zero", 100, "/dev/zero is a character device, not a regular file");
    refused(dir.str(), 100, "is a directory, not a regular file");
    refused((dir.path / "poems.txt").string(), 5, "has 10 B, more than the limit of 5 B for this file");
    // a file whose size on disk says 0 but which holds more (Linux's /proc) is read only up to the limit
    refused("/proc/self/maps", 100, "/proc/self/maps holds more than the limit of 100 B for this file");
    // the hint for a missing file (e.g. which package provides it) is given only when it is missing
    refused((dir.path / "absent").string(), 100, "(No such file or directory): install it");
    // writing: a FIFO or a directory where a file would be written is refused, not opened (a FIFO
    // would block until a reader came); a regular file is overwritten
    const Vector v = {1, 2};
    REQUIRE(mkfifo((dir.path / "out.npy").c_str(), 0600) == 0);
    CHECK(
        contains(error_of([&] { save_npy(dir.str(), "out", v); }), "out.npy: a FIFO (named pipe) is there"));
    fs::create_directory(dir.path / "figure.svg");
    CHECK(contains(error_of([&] { create_checked((dir.path / "figure.svg").string()); }),
                   "a directory is there"));
    CHECK_NOTHROW(create_checked((dir.path / "poems.txt").string()));
  }

  TEST_CASE("npy: a file in the --load directory that no loader read is an error, named") {
    TempDir dir;
    const Matrix m = {{1, 2}, {3, 4}};
    for (const char* name : {"query", "key", "value", "output", "attn_mask"}) save_npy(dir.str(), name, m);
    std::ofstream(dir.path / "args.txt") << "--heads 2\n";  // not a .npy file: not looked at
    load_attention_inputs(dir.str());
    // attn_mask.npy was not read, and is not an output
    const std::string message =
        error_of([&] { require_no_unread_files(dir.str(), {"output"}, "the files of plain attention"); });
    CHECK(message ==
          "attn_mask.npy is not one of the files of plain attention: an unexpected file is an error, as in "
          "PyTorch's strict load_state_dict");
    // without it, the rest is what was read plus an output
    fs::remove(dir.path / "attn_mask.npy");
    CHECK_NOTHROW(require_no_unread_files(dir.str(), {"output"}, "the files of plain attention"));
    CHECK(unread_files_checked());
    // the count of the others is given
    save_npy(dir.str(), "b", m);
    save_npy(dir.str(), "a", m);
    CHECK(contains(error_of([&] { require_no_unread_files(dir.str(), {}, "x"); }),
                   "a.npy (and 2 more) is not one of x"));
  }

  TEST_CASE("pytorch: count_numbered_layers counts every blocks.N. file and refuses a gap") {
    TempDir dir;
    const Vector v = {1, 2};
    CHECK(count_numbered_layers(dir.str(), "blocks.") == 0);
    save_npy(dir.str(), "blocks.0.norm1.bias", v);
    save_npy(dir.str(), "blocks.1.linear2.bias", v);  // a partial block still counts
    save_npy(dir.str(), "blocks.x.norm1.bias", v);    // not a number: left to require_no_unread_files
    save_npy(dir.str(), "layers.5.norm1.bias", v);    // another prefix
    CHECK(count_numbered_layers(dir.str(), "blocks.") == 2);
    save_npy(dir.str(), "blocks.7.norm1.bias", v);
    CHECK(
        error_of([&] { count_numbered_layers(dir.str(), "blocks."); }) ==
        "blocks.7.*.npy: there is no blocks.2.*.npy; the layers must be numbered 0, 1, 2, ... without a gap");
  }

  TEST_CASE("npy: the header is checked before the data is read, and the file's size against it") {
    TempDir dir;
    // A sparse file of 8 GiB behind a header for 4 doubles: refused from its size alone by the checked
    // opener (files.hpp), fast, and without reading (a loader that read it whole would take seconds
    // and 8 GiB); one of 4 KiB from the header's shape.
    write_raw_npy(dir.path / "big.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
                  doubles({1, 2, 3, 4}));
    fs::resize_file(dir.path / "big.npy", std::uintmax_t{8} << 30);
    const std::string big = load_error(dir.str(), "big");
    CHECK_MESSAGE(
        (contains(big, "big.npy: ") && contains(big, " has 8.0 GiB, more than the limit of 1.0 GiB")), big);
    fs::resize_file(dir.path / "big.npy", 4096);
    CHECK(contains(load_error(dir.str(), "big"), "big.npy: unexpected extra data: shape (2, 2) of float64"));
    // a header that claims more than the memory limit is refused before any data is looked at
    write_raw_npy(dir.path / "claims.npy",
                  "{'descr': '<f8', 'fortran_order': False, 'shape': (200000000, 2), }", "");
    const std::string claims = load_error(dir.str(), "claims");
    CHECK_MESSAGE(contains(claims, "claims.npy has shape (200000000, 2): 4e+08 values would need 3.0 GiB"),
                  claims);
    // a header length beyond the file, and an absurd one
    std::ofstream(dir.path / "short.npy", std::ios::binary)
        << std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 18);
    CHECK(contains(load_error(dir.str(), "short"), "truncated .npy header"));
    std::ofstream(dir.path / "long.npy", std::ios::binary)
        << std::string("\x93NUMPY\x02\x00\xff\xff\xff\x7f", 12);
    CHECK(contains(load_error(dir.str(), "long"), "far too long"));
    // a shape with 13 digits, and a shape of 33 dimensions
    write_raw_npy(dir.path / "digits.npy",
                  "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1), }", "");
    CHECK(contains(load_error(dir.str(), "digits"), "absurdly large"));
    std::string dims = "(1";
    for (int i = 0; i < 32; ++i) dims += ", 1";
    write_raw_npy(dir.path / "rank33.npy",
                  "{'descr': '<f8', 'fortran_order': False, 'shape': " + dims + "), }", doubles({1}));
    CHECK(contains(load_error(dir.str(), "rank33"), "33 dimensions"));
  }

  TEST_CASE("npy: every loader refuses empty arrays alike, (0, huge) included") {
    TempDir dir;
    // name, dtype, shape: each with a dimension of 0, so no data. A size check that skipped the 0 would
    // let zero_huge through, and a later (1, 999999999999) ask for 8 TB.
    const std::array<std::array<std::string, 3>, 8> empty_arrays = {
        {{"zero_rows", "<f8", "(0, 4)"},
         {"zero_cols", "<f4", "(3, 0)"},
         {"zero_huge", "<f8", "(0, 999999999999)"},
         {"empty_vector", "<f8", "(0,)"},
         {"empty_mask", "|b1", "(0, 2)"},
         {"empty_ids", "<i8", "(0,)"},
         {"empty3", "<f8", "(2, 0, 2)"},
         {"empty4", "<f8", "(1, 1, 1, 0)"}}};
    for (const auto& [name, descr, shape] : empty_arrays) {
      write_raw_npy(dir.path / (name + ".npy"),
                    "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", "");
    }
    const std::string d = dir.str();
    const std::pair<std::string, std::string> cases[] = {
        {load_error(d, "zero_rows"), "zero_rows.npy has shape (0, 4)"},
        {load_error(d, "zero_cols"), "zero_cols.npy has shape (3, 0)"},
        {load_error(d, "zero_huge"), "zero_huge.npy has shape (0, 999999999999)"},
        {error_of([&] { load_vector(d, "empty_vector", "(n,)"); }), "empty_vector.npy has shape (0,)"},
        {error_of([&] { load_bool_matrix(d, "empty_mask", "(L, S)"); }), "empty_mask.npy has shape (0, 2)"},
        {error_of([&] { load_int64_vector(d, "empty_ids", "(T,)"); }), "empty_ids.npy has shape (0,)"},
        {error_of([&] { load_tensor3(d, "empty3", "(a, b, c)"); }), "empty3.npy has shape (2, 0, 2)"},
        {error_of([&] { load_tensor4(d, "empty4", "(a, b, c, d)"); }), "empty4.npy has shape (1, 1, 1, 0)"},
    };
    for (const auto& [message, start] : cases) {
      CAPTURE(message);
      CHECK(message == start + ": an empty array (a dimension of 0) is not accepted");
    }
  }

  TEST_CASE("npy: NaN, infinities and values above 1e15 are refused by every float loader") {
    TempDir dir;
    const std::string d = dir.str();
    const auto save_one = [&](const std::string& name, double bad) {
      save_npy(d, "ok", Matrix({{1.0, 2.0}, {3.0, 4.0}}));
      fs::rename(dir.path / "ok.npy", dir.path / (name + ".npy"));
      // write the bad value over the last entry (save_npy itself refuses non-finite values)
      std::fstream f(dir.path / (name + ".npy"), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(128 + 3 * 8);
      f.write(reinterpret_cast<const char*>(&bad), 8);
    };
    save_one("nan", NAN);
    save_one("inf", INFINITY);
    save_one("neg_inf", -INFINITY);
    save_one("e300", 1e300);
    save_one("just_above", -1.0000001e15);
    save_one("at_limit", -1e15);
    std::string data;
    for (float f : {1.0f, INFINITY}) data.append(reinterpret_cast<const char*>(&f), 4);
    write_raw_npy(dir.path / "f32_inf.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                  data);

    CHECK(load_error(d, "nan") == "nan.npy holds nan at [1, 1]: NaN and infinite values are not accepted");
    CHECK(load_error(d, "inf") == "inf.npy holds inf at [1, 1]: NaN and infinite values are not accepted");
    CHECK(contains(load_error(d, "neg_inf"), "holds -inf at [1, 1]"));
    CHECK(
        load_error(d, "e300") ==
        "e300.npy holds 1e+300 at [1, 1]: values must be at most 1e15 in magnitude, so that products of them "
        "cannot overflow float64");
    CHECK(contains(load_error(d, "just_above"), "holds -1000000100000000 at [1, 1]"));
    CHECK(load_error(d, "at_limit") == "");
    CHECK(contains(error_of([&] { load_vector(d, "f32_inf", "(n,)"); }), "f32_inf.npy holds inf at [1]"));
    CHECK(contains(error_of([&] { read_npy((dir.path / "nan.npy").string(), "nan.npy"); }), "holds nan"));
    // the bound keeps the longest product chains finite: (1e15)^20 is still below float64's maximum
    CHECK(std::isfinite(std::pow(max_abs_value, 20)));
  }

  TEST_CASE("npy: dtype errors name the dtype expected and the one found") {
    TempDir dir;
    const std::string d = dir.str();
    save_npy(d, "floats", Matrix({{1.0, 0.0}}));
    write_raw_npy(dir.path / "ids.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                  std::string(16, '\0'));
    write_raw_npy(dir.path / "half.npy", "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", "abcd");
    write_raw_npy(dir.path / "bytes.npy", "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", "ab");
    // float64 data behind a bool header: the size says 8 bytes per entry
    write_raw_npy(dir.path / "marked_bool.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (1, 2), }",
                  doubles({1.0, 0.0}));
    write_raw_npy(dir.path / "not_bool.npy", "{'descr': '|b1', 'fortran_order': False, 'shape': (1, 2), }",
                  std::string("\x01\x3f", 2));
    write_raw_npy(dir.path / "weird.npy",
                  "{'descr': '" + std::string(5000, 'x') + "', 'fortran_order': False, 'shape': (2,), }", "");

    CHECK(error_of([&] { load_bool_matrix(d, "floats", "(L, S)"); }) ==
          "floats.npy: expected bool ('|b1'), found float64 ('<f8')");
    CHECK(error_of([&] { load_int64_vector(d, "floats", "(T,)"); }) ==
          "floats.npy: expected int64 ('<i8'), found float64 ('<f8')");
    CHECK(error_of([&] { load_vector(d, "ids", "(n,)"); }) ==
          "ids.npy: expected float64 ('<f8') or float32 ('<f4'), found int64 ('<i8')");
    CHECK(error_of([&] { load_bool_vector(d, "ids", "(S,)"); }) ==
          "ids.npy: expected bool ('|b1'), found int64 ('<i8')");
    CHECK(contains(error_of([&] { load_vector(d, "half", "(n,)"); }), "found float16 ('<f2')"));
    CHECK(contains(error_of([&] { load_bool_vector(d, "bytes", "(S,)"); }), "found uint8 ('|u1')"));
    CHECK(
        error_of([&] { load_bool_matrix(d, "marked_bool", "(L, S)"); }) ==
        "marked_bool.npy: unexpected extra data: shape (1, 2) of bool ('|b1') needs 2 bytes, the file has 16 "
        "(8-byte items: is the dtype in the header wrong?)");
    CHECK(error_of([&] { load_bool_matrix(d, "not_bool", "(L, S)"); }) ==
          "not_bool.npy holds the byte 63 at [0, 1]: a bool must be 0 or 1");
    const std::string weird = load_error(d, "weird");
    CHECK_MESSAGE(weird.size() < 160, weird);
    CHECK(contains(weird, "found 'xxxx"));
  }

  TEST_CASE("npy: int64 token ids load exactly, beyond 2^53 too") {
    TempDir dir;
    const std::int64_t ids[] = {0, 7, -3, (std::int64_t{1} << 62) + 1};
    write_raw_npy(dir.path / "idx.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (4,), }",
                  std::string(reinterpret_cast<const char*>(ids), sizeof ids));
    const Int64Vector v = load_int64_vector(dir.str(), "idx", "(T,)");
    REQUIRE(v.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) CHECK(v(i) == ids[i]);
    const NpyArray a = read_npy((dir.path / "idx.npy").string(), "idx.npy");
    CHECK(a.descr == "<i8");
    CHECK(a.integers == std::vector<std::int64_t>(std::begin(ids), std::end(ids)));
    CHECK(contains(error_of([&] { load_matrix(dir.str(), "idx", "(L, E)"); }), "found int64"));
  }

  TEST_CASE("npy: a 0-d array (shape ()) holds one scalar, e.g. a loss") {
    TempDir dir;
    save_scalar(dir.str(), "loss", 2.5);
    // exactly what np.save(np.float64(2.5)) writes: a 64-byte aligned header with shape ()
    CHECK(fs::file_size(dir.path / "loss.npy") == 128 + 8);
    const NpyArray a = read_npy((dir.path / "loss.npy").string(), "loss.npy");
    CHECK(a.shape.empty());
    CHECK(a.values == std::vector<double>{2.5});
    CHECK(load_scalar(dir.str(), "loss") == 2.5);
    CHECK(load_error(dir.str(), "loss") == "loss.npy: expected a 2-D array (L, E), got shape ()");
    save_npy(dir.str(), "m", Matrix({{1.0}}));
    CHECK(error_of([&] { load_scalar(dir.str(), "m"); }) ==
          "m.npy: expected a 0-D array (a scalar, shape ()), got shape (1, 1)");
    CHECK_THROWS_AS(save_scalar(dir.str(), "nan_loss", NAN), usage_error);
  }

  TEST_CASE("npy: a result that overflowed is refused before it is printed or saved") {
    TempDir dir;
    const Matrix ok = {{1.0, -1e300}};
    const Matrix overflowed = {{1.0, INFINITY}, {NAN, 0.0}};
    CHECK_NOTHROW(require_finite_result("output", ok));
    CHECK(
        error_of([&] { require_finite_result("the output", overflowed); }) ==
        "the output holds inf (entry 1): the computation overflowed float64; the loaded values are too large "
        "in magnitude for it");
    CHECK(contains(error_of([&] { save_npy(dir.str(), "out", overflowed); }), "out.npy holds inf"));
    CHECK_FALSE(fs::exists(dir.path / "out.npy"));  // nothing half-written
  }

  TEST_CASE("messages: shorten() keeps a long value's two ends, on UTF-8 boundaries, without control chars") {
    CHECK(shorten("short") == "short");
    const std::string long_value = std::string(5000, '9') + "END";
    const std::string s = shorten(long_value);
    CHECK(s.size() <= 80);
    CHECK(s.substr(0, 5) == "99999");
    CHECK(contains(s, "..."));
    CHECK(s.substr(s.size() - 3) == "END");
    CHECK(shorten("a\nb\x1b[2Jc") == "a?b?[2Jc");
    // 100 CJK characters (3 bytes each): no character is cut in half
    std::string cjk;
    for (int i = 0; i < 100; ++i) cjk += "的";
    const std::string c = shorten(cjk);
    CHECK(c.size() <= 83);
    CHECK(c.substr(0, c.find("...")).size() % 3 == 0);
    CHECK(c.substr(c.find("...") + 3).size() % 3 == 0);
  }

  TEST_CASE("cli: whole_number_in echoes at most ~80 characters and refuses leading zeros") {
    const CLI::Validator check = whole_number_in(1, 1000);
    const std::string too_big = check(std::string(10000, '9')), not_number = check(std::string(10000, 'x'));
    CHECK_MESSAGE(too_big.size() < 160, too_big);
    CHECK(contains(too_big, "is out of range: it must be between 1 and 1000"));
    CHECK_MESSAGE(not_number.size() < 120, not_number);
    CHECK(contains(not_number, "is not a whole number"));
    // CLI11 would read "010" as octal 8 and refuse "08" with "Could not convert"
    CHECK(check(std::string("010")) == "'010': write the number without leading zeros");
    CHECK(check(std::string("08")) == "'08': write the number without leading zeros");
    CHECK(check(std::string("0x10")) == "'0x10' is not a whole number");
    CHECK(check(std::string("+8")) == "");
    CHECK(check(std::string("1000")) == "");
    CHECK(whole_number_in(0, 5)(std::string("0")) == "");
  }

  TEST_CASE("cli: CLI11's stock messages become plain sentences") {
    CHECK(parse_message({"--seed", "7"}) == "");
    CHECK(parse_message({"--seed"}) == "--seed needs a value: a whole number from 0 to 9223372036854775807");
    CHECK(parse_message({"--heads"}) == "--heads needs a value: a whole number from 1 to 16");
    CHECK(parse_message({"--load"}) == "--load needs a value: a directory name");
    CHECK(parse_message({"--seed", "1", "--seed", "2"}) == "--seed is given more than once; give it once");
    CHECK(parse_message({"--bogus"}) == "unknown flag --bogus");
    CHECK(parse_message({"extra"}) == "unexpected argument 'extra': this program takes flags only");
    // an unknown flag with its value, or after a known one, is named as the flag (not "3 --bogus")
    CHECK(parse_message({"--bogus", "3"}) == "unknown flag --bogus");
    CHECK(parse_message({"--seed", "1", "--bogus", "3", "--other"}) == "unknown flag --bogus");
    CHECK(parse_message({"one", "two"}) == "unexpected argument 'one two': this program takes flags only");
    CHECK(parse_message({"--no-color=maybe"}) == "--no-color: 'maybe' is not a valid value");
    CHECK(parse_message({"--heads", "0"}) == "--heads: 0 is out of range: it must be between 1 and 16");
    CHECK(parse_message({"--seed", "010"}) == "--seed: '010': write the number without leading zeros");
    const std::string long_flag = parse_message({"--" + std::string(10000, 'x')});
    CHECK_MESSAGE(long_flag.size() < 100, long_flag);
    const std::string long_value = parse_message({"--seed", std::string(10000, '7')});
    CHECK_MESSAGE(long_value.size() < 160, long_value);
  }

  TEST_CASE("cli: run_program refuses a --load that is not a directory and empty directory names") {
    TempDir dir;
    save_npy(dir.str(), "query", Matrix({{1.0}}));
    const std::string file = (dir.path / "query.npy").string();
    const std::vector<std::vector<std::string>> bad = {
        {"--load", file}, {"--load", (dir.path / "absent").string()},
        {"--load", ""},   {"--save", ""},
        {"--svg", ""},    {"--load", "/dev/zero"},
    };
    for (const auto& args : bad) {
      CAPTURE(args.size() > 1 ? args[1] : args[0]);
      CLI::App app("test", "ch99_test");
      CommonOptions common;
      add_common_options(app, common, true);
      std::vector<std::string> words = {"ch99_test"};
      words.insert(words.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& w : words) argv.push_back(w.data());
      bool ran = false;
      CHECK(run_program(app, static_cast<int>(argv.size()), argv.data(), common, [&] {
              ran = true;
              return 0;
            }) == 2);
      CHECK_FALSE(ran);
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

  TEST_CASE("print: a large matrix shows its first 32 rows and 24 columns, then says what was left out") {
    // Capture stdout in a temporary file while printing.
    const auto captured = [](const auto& print) {
      std::fflush(stdout);
      std::FILE* tmp = std::tmpfile();
      REQUIRE(tmp != nullptr);
      const int saved = dup(fileno(stdout));
      dup2(fileno(tmp), fileno(stdout));
      print();
      std::fflush(stdout);
      dup2(saved, fileno(stdout));
      close(saved);
      std::rewind(tmp);
      std::string text;
      for (int ch = std::fgetc(tmp); ch != EOF; ch = std::fgetc(tmp)) text += static_cast<char>(ch);
      std::fclose(tmp);
      return text;
    };
    const auto lines = [](const std::string& text) { return std::count(text.begin(), text.end(), '\n'); };
    const Matrix big = xt::ones<double>({std::size_t{100}, std::size_t{50}});
    const std::string m = captured([&] { print_matrix("big", big); });
    CHECK(lines(m) == 1 + 1 + 32 + 1);  // label, header, 32 rows, the line that says what is left out
    CHECK(m.find("... 68 more rows and 26 more columns not shown") != std::string::npos);
    CHECK(m.find(" c23") != std::string::npos);
    CHECK(m.find(" c24") == std::string::npos);
    const std::string h = captured([&] { print_heatmap("big", big, {}, {}); });
    CHECK(lines(h) == 1 + 1 + 32 + 1);
    const std::string v = captured([&] { print_vector("v", Vector(xt::ones<double>({std::size_t{30}}))); });
    CHECK(v.find("... 6 more columns not shown") != std::string::npos);
    // What fits is printed whole, with no extra line.
    const std::string small = captured([&] { print_matrix("small", Matrix(xt::ones<double>({32, 24}))); });
    CHECK(lines(small) == 1 + 1 + 32);
  }

  TEST_CASE("linalg: product, product_tn and product_nt by hand, and on shapes that do not fit") {
    const Matrix a = {{1, 2, 3}, {4, 5, 6}};     // (2, 3)
    const Matrix b = {{1, 0}, {0, 1}, {2, -1}};  // (3, 2)
    // a b: row 0 = (1 + 6, 2 - 3), row 1 = (4 + 12, 5 - 6); small integers, so dgemm is exact
    CHECK_CLOSE(product(a, b), Matrix({{7, -1}, {16, -1}}), 0.0);
    // aᵀ a (3, 3) and a aᵀ (2, 2), against the transposes copied by hand
    const Matrix at = xt::transpose(a);
    CHECK_CLOSE(product_tn(a, a), product(at, a), 0.0);
    CHECK_CLOSE(product_nt(a, a), Matrix({{14, 32}, {32, 77}}), 0.0);
    CHECK_CLOSE(product_tn(b, at), Matrix({{7, 16}, {-1, -1}}), 0.0);  // bᵀ aᵀ = (a b)ᵀ
    // an inner size of 0 is an empty sum, so zeros of the outer shape
    CHECK_CLOSE(product(Matrix(xt::zeros<double>({2, 0})), Matrix(xt::zeros<double>({0, 3}))),
                Matrix(xt::zeros<double>({2, 3})), 0.0);
    CHECK_THROWS_AS(product(a, a), std::invalid_argument);
    CHECK_THROWS_AS(product_tn(a, b), std::invalid_argument);
    CHECK_THROWS_AS(product_nt(a, b), std::invalid_argument);
  }

  TEST_CASE("linalg: a product of random matrices equals the loop sum to rounding, and repeats bit for bit") {
    Rng rng(7);
    const Matrix a = rng.normal_matrix(37, 53), b = rng.normal_matrix(53, 29);
    Matrix loop = xt::zeros<double>({37, 29});
    for (std::size_t i = 0; i < 37; ++i)
      for (std::size_t j = 0; j < 29; ++j)
        for (std::size_t p = 0; p < 53; ++p) loop(i, j) += a(i, p) * b(p, j);
    const Matrix c = product(a, b);
    CHECK_CLOSE(c, loop, 1e-12);  // 53 terms of size ~1: rounding differs by the order of the sum only
    CHECK(xt::all(xt::equal(product(a, b), c)));  // one BLAS thread: the same order every time
  }

  TEST_CASE("linalg: product_tn and product_nt on random non-square matrices equal the loop sums") {
    // Sizes that all differ, so a transposed stride or a swapped size gives wrong numbers, not an error.
    Rng rng(11);
    const std::size_t n = 7, k = 13, m = 5;
    const Matrix a_t = rng.normal_matrix(k, n), b = rng.normal_matrix(k, m);  // product_tn(a_t, b) = a_tᵀ b
    const Matrix a = rng.normal_matrix(n, k), b_t = rng.normal_matrix(m, k);  // product_nt(a, b_t) = a b_tᵀ
    Matrix tn = xt::zeros<double>({n, m}), nt = xt::zeros<double>({n, m});
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < m; ++j)
        for (std::size_t p = 0; p < k; ++p) {
          tn(i, j) += a_t(p, i) * b(p, j);
          nt(i, j) += a(i, p) * b_t(j, p);
        }
    REQUIRE_SHAPE(product_tn(a_t, b), {n, m});
    REQUIRE_SHAPE(product_nt(a, b_t), {n, m});
    CHECK_CLOSE(product_tn(a_t, b), tn, 1e-13);  // 13 terms of size ~1, added in another order
    CHECK_CLOSE(product_nt(a, b_t), nt, 1e-13);
  }

  TEST_CASE("linalg: the tests run on one BLAS thread (set by the tests' main, as run_program does)") {
    CHECK(openblas_get_num_threads() == 1);
    // only the first call sets it: a benchmark's own choice made later (bench_12 --threads) stays
    openblas_set_num_threads(2);
    const int chosen = openblas_get_num_threads();  // 2 wherever OpenBLAS allows two threads
    use_one_blas_thread();
    const int after_second_call = openblas_get_num_threads();
    openblas_set_num_threads(1);
    CHECK(after_second_call == chosen);
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

  TEST_CASE("max_row_sum_error: the worst row's |sum - 1|, every row and every column counted") {
    const Matrix exact = {{0.25, 0.75}, {1.0, 0.0}};
    CHECK(max_row_sum_error(exact) == 0.0);
    // the worst row is the last one, and its error is in its last column
    const Matrix last_off = {{0.5, 0.5, 0.0}, {0.2, 0.3, 0.5}, {0.0, 0.5, 0.75}};
    CHECK(max_row_sum_error(last_off) == doctest::Approx(0.25));
    const Matrix below = {{0.5, 0.25}};  // a row summing to less than 1
    CHECK(max_row_sum_error(below) == doctest::Approx(0.25));
    const Matrix with_nan = {{0.5, NAN}};
    CHECK(max_row_sum_error(with_nan) == INFINITY);
    CHECK(max_row_sum_error(Matrix::from_shape({0, 3})) == 0.0);
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
