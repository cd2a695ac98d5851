#include "npy.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace course {

namespace {

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string path_of(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / (name + ".npy")).string();
}

// The text after `'key':` in the header dict, with spaces skipped; throws if the key is missing.
std::size_t find_value(const std::string& header, const std::string& key, const std::string& name) {
  const std::size_t at = header.find("'" + key + "'");
  if (at == std::string::npos)
    throw usage_error(name + ": not a valid .npy file (no '" + key + "' in header)");
  std::size_t i = header.find(':', at);
  if (i == std::string::npos) throw usage_error(name + ": not a valid .npy file (bad header)");
  ++i;
  while (i < header.size() && header[i] == ' ') ++i;
  return i;
}

std::vector<std::size_t> parse_shape(const std::string& header, const std::string& name) {
  std::size_t i = find_value(header, "shape", name);
  const std::size_t close = header.find(')', i);
  if (i >= header.size() || header[i] != '(' || close == std::string::npos) {
    throw usage_error(name + ": not a valid .npy file (bad shape in header)");
  }
  std::vector<std::size_t> shape;
  std::string number;
  for (std::size_t k = i + 1; k <= close; ++k) {
    const char c = header[k];
    if (c >= '0' && c <= '9') {
      number += c;
      if (number.size() > 12) throw usage_error(name + ": shape in header is absurdly large");
    } else if (c == ',' || c == ')') {
      if (!number.empty()) shape.push_back(std::stoull(number));
      number.clear();
    } else if (c != ' ' && c != 'L') {
      throw usage_error(name + ": not a valid .npy file (bad shape in header)");
    }
  }
  return shape;
}

}  // namespace

NpyArray read_npy(const std::string& path, const std::string& name) {
  // 1. the whole file (inputs are small; sizes are checked against the header below)
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw usage_error(fmt::format("{}: cannot open {} ({})", name, path, std::strerror(errno)));
  }
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  // 2. magic string and version: "\x93NUMPY", major, minor, header length (2 or 4 bytes, LE)
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) {
    throw usage_error(name + ": not a .npy file (no \\x93NUMPY magic string)");
  }
  const auto u8 = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  const std::uint32_t major = u8(6);
  if (major < 1 || major > 3) throw usage_error(fmt::format("{}: unsupported .npy version {}", name, major));
  std::size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = u8(8) | (u8(9) << 8);
    header_start = 10;
  } else {
    if (bytes.size() < 12) throw usage_error(name + ": truncated .npy header");
    header_len = u8(8) | (u8(9) << 8) | (u8(10) << 16) | (u8(11) << 24);
    header_start = 12;
  }
  if (header_start + header_len > bytes.size()) throw usage_error(name + ": truncated .npy header");
  const std::string header = bytes.substr(header_start, header_len);

  // 3. the header dict: descr, fortran_order, shape
  NpyArray array;
  std::size_t i = find_value(header, "descr", name);
  const std::size_t end = header.find('\'', i + 1);
  if (i >= header.size() || header[i] != '\'' || end == std::string::npos) {
    throw usage_error(name + ": not a valid .npy file (bad descr in header)");
  }
  array.descr = header.substr(i + 1, end - i - 1);
  std::size_t itemsize = 0;
  if (array.descr == "<f8") {
    itemsize = 8;
  } else if (array.descr == "<f4") {
    itemsize = 4;
  } else if (array.descr == "|b1") {
    itemsize = 1;
  } else {
    throw usage_error(
        fmt::format("{}: dtype '{}' is not supported; expected float64 ('<f8'), float32 ('<f4') or, for "
                    "masks, bool ('|b1')",
                    name, array.descr));
  }
  if (header.compare(find_value(header, "fortran_order", name), 5, "False") != 0) {
    throw usage_error(name + ": Fortran-order arrays are not supported; save np.ascontiguousarray(x)");
  }
  array.shape = parse_shape(header, name);

  // 4. the data: exactly product(shape) × itemsize bytes after the header
  std::size_t count = 1;
  for (std::size_t d : array.shape) {
    if (d != 0 && count > (std::size_t(1) << 40) / d)
      throw usage_error(name + ": shape in header is absurdly large");
    count *= d;
  }
  const std::size_t data_start = header_start + header_len;
  const std::size_t have = bytes.size() - data_start;
  if (have != count * itemsize) {
    throw usage_error(fmt::format("{}: {} data: shape {} of {} needs {} bytes, the file has {}", name,
                                  have < count * itemsize ? "truncated" : "unexpected extra",
                                  shape_string(array.shape), array.descr, count * itemsize, have));
  }
  array.values.resize(count);
  const char* data = bytes.data() + data_start;
  for (std::size_t k = 0; k < count; ++k) {
    if (itemsize == 8) {
      double x;
      std::memcpy(&x, data + 8 * k, 8);
      array.values[k] = x;
    } else if (itemsize == 4) {
      float x;
      std::memcpy(&x, data + 4 * k, 4);
      array.values[k] = x;
    } else {
      const unsigned char b = static_cast<unsigned char>(data[k]);
      if (b > 1) throw usage_error(fmt::format("{}: bool array holds the byte {} (not 0 or 1)", name, b));
      array.values[k] = b;
    }
  }
  return array;
}

bool npy_exists(const std::string& dir, const std::string& name) {
  return std::filesystem::exists(path_of(dir, name));
}

namespace {
// Reads DIR/NAME.npy and checks its rank and whether it holds floats or bools.
NpyArray read_checked(const std::string& dir, const std::string& name, std::size_t rank, bool want_bool,
                      const std::string& dims) {
  const std::string file = name + ".npy";
  NpyArray a = read_npy(path_of(dir, name), file);
  const bool is_bool = a.descr == "|b1";
  if (want_bool && !is_bool) {
    throw usage_error(fmt::format("{}: a mask must have dtype bool ('|b1'), got '{}'", file, a.descr));
  }
  if (!want_bool && is_bool) {
    throw usage_error(fmt::format("{}: expected float64 or float32, got bool", file));
  }
  if (a.shape.size() != rank) {
    throw usage_error(
        fmt::format("{}: expected a {}-D array {}, got shape {}", file, rank, dims, shape_string(a.shape)));
  }
  return a;
}
}  // namespace

Matrix load_matrix(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 2, false, dims);
  Matrix m = Matrix::from_shape({a.shape[0], a.shape[1]});
  std::copy(a.values.begin(), a.values.end(), m.begin());
  return m;
}

Vector load_vector(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 1, false, dims);
  Vector v = Vector::from_shape({a.shape[0]});
  std::copy(a.values.begin(), a.values.end(), v.begin());
  return v;
}

Tensor3 load_tensor3(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 3, false, dims);
  Tensor3 t = Tensor3::from_shape({a.shape[0], a.shape[1], a.shape[2]});
  std::copy(a.values.begin(), a.values.end(), t.begin());
  return t;
}

Tensor4 load_tensor4(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 4, false, dims);
  Tensor4 t = Tensor4::from_shape({a.shape[0], a.shape[1], a.shape[2], a.shape[3]});
  std::copy(a.values.begin(), a.values.end(), t.begin());
  return t;
}

BoolMatrix load_bool_matrix(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 2, true, dims);
  BoolMatrix m = BoolMatrix::from_shape({a.shape[0], a.shape[1]});
  std::transform(a.values.begin(), a.values.end(), m.begin(), [](double x) { return x != 0.0; });
  return m;
}

BoolVector load_bool_vector(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 1, true, dims);
  BoolVector v = BoolVector::from_shape({a.shape[0]});
  std::transform(a.values.begin(), a.values.end(), v.begin(), [](double x) { return x != 0.0; });
  return v;
}

void require_shape(const std::string& name, const std::vector<std::size_t>& actual,
                   const std::vector<std::size_t>& expected, const std::string& dims) {
  if (actual != expected) {
    throw usage_error(fmt::format("{} has shape {}, expected {} = {}", name, shape_string(actual), dims,
                                  shape_string(expected)));
  }
}

void save_npy(const std::string& dir, const std::string& name, const std::vector<std::size_t>& shape,
              const double* data) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw usage_error(fmt::format("cannot create directory {} ({})", dir, ec.message()));
  // Header: the dict, padded with spaces and ended by '\n' so that 10 + len is a multiple of 64.
  std::string header =
      fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': {}, }}", shape_string(shape));
  const std::size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;

  const std::string path = path_of(dir, name);
  std::ofstream out(path, std::ios::binary);
  const unsigned char preamble[10] = {0x93,
                                      'N',
                                      'U',
                                      'M',
                                      'P',
                                      'Y',
                                      1,
                                      0,
                                      static_cast<unsigned char>(header.size() & 0xFF),
                                      static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(preamble), 10);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * sizeof(double)));
  if (!out) throw usage_error(fmt::format("cannot write {}", path));
}

}  // namespace course
