#include "npy.hpp"

#include "cli.hpp"  // memory_limit_bytes, format_bytes
#include "files.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

namespace course {

namespace fs = std::filesystem;

namespace {

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

// The shape as an error message shows it (a 32-D shape from a malformed header is shortened).
std::string shown(const std::vector<std::size_t>& shape) {
  return shorten(shape_string(shape));
}

// "[1, 3]": the position of the k-th value (C order) in an array of this shape; "" for a 0-d array.
std::string index_string(std::size_t k, const std::vector<std::size_t>& shape) {
  if (shape.empty()) return "";
  std::vector<std::size_t> index(shape.size());
  for (std::size_t a = shape.size(); a-- > 0;) {
    index[a] = k % shape[a];
    k /= shape[a];
  }
  return fmt::format(" at [{}]", fmt::join(index, ", "));
}

// The largest .npy file read at all: an array of memory_limit_bytes as float64 behind the largest
// header (step 2 refuses longer ones). Anything larger is refused from its size, unread.
constexpr std::uintmax_t max_npy_bytes = static_cast<std::uintmax_t>(memory_limit_bytes) + 12 + 65535;

// Every .npy file the loaders have read in this run, as a normalised path (require_no_unread_files).
std::set<std::string>& files_read() {
  static std::set<std::string> paths;
  return paths;
}
bool unread_checked = false;

std::string path_of(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / (name + ".npy")).string();
}

// What a loader accepts.
enum class Want { any, floats, bools, int64s };

std::string wanted(Want want) {
  switch (want) {
    case Want::floats:
      return "float64 ('<f8') or float32 ('<f4')";
    case Want::bools:
      return "bool ('|b1')";
    case Want::int64s:
      return "int64 ('<i8')";
    default:
      return "float64 ('<f8'), float32 ('<f4'), bool ('|b1') or int64 ('<i8')";
  }
}

bool accepts(Want want, const std::string& descr) {
  const bool is_float = descr == "<f8" || descr == "<f4";
  switch (want) {
    case Want::floats:
      return is_float;
    case Want::bools:
      return descr == "|b1";
    case Want::int64s:
      return descr == "<i8";
    default:
      return is_float || descr == "|b1" || descr == "<i8";
  }
}

// A NumPy dtype string in words: "float64 ('<f8')", "big-endian int32 ('>i4')", "bool ('|b1')"; any
// other string is just quoted (and shortened: it came from the file).
std::string dtype_name(const std::string& descr) {
  const std::string quoted = "'" + shorten(descr, 40) + "'";
  const bool plain = descr.size() >= 3 && descr.size() <= 4 &&
                     std::string("<>|=").find(descr[0]) != std::string::npos &&
                     std::all_of(descr.begin() + 2, descr.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!plain) return quoted;
  const int bytes = std::stoi(descr.substr(2));
  const std::string order = descr[0] == '>' ? "big-endian " : "";
  switch (descr[1]) {
    case 'f':
      return order + "float" + std::to_string(8 * bytes) + " (" + quoted + ")";
    case 'i':
      return order + "int" + std::to_string(8 * bytes) + " (" + quoted + ")";
    case 'u':
      return order + "uint" + std::to_string(8 * bytes) + " (" + quoted + ")";
    case 'c':
      return order + "complex" + std::to_string(8 * bytes) + " (" + quoted + ")";
    case 'b':
      return bytes == 1 ? "bool (" + quoted + ")" : quoted;
    default:
      return quoted;
  }
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
  if (shape.size() > 32) {
    throw usage_error(
        fmt::format("{}: shape in header has {} dimensions; NumPy allows at most 32", name, shape.size()));
  }
  return shape;
}

// Step 5: one value, checked. Floats: finite and |x| <= max_abs_value; bools: the byte 0 or 1.
double checked_value(double x, std::size_t k, const NpyArray& a, const std::string& name) {
  if (!std::isfinite(x)) {
    throw usage_error(fmt::format("{} holds {}{}: NaN and infinite values are not accepted", name, x,
                                  index_string(k, a.shape)));
  }
  if (std::abs(x) > max_abs_value) {
    std::string limit = fmt::format("{:.0e}", max_abs_value);  // "1e+15" -> "1e15"
    limit.erase(std::remove(limit.begin(), limit.end(), '+'), limit.end());
    throw usage_error(
        fmt::format("{} holds {}{}: values must be at most {} in magnitude, so that products "
                    "of them cannot overflow float64",
                    name, x, index_string(k, a.shape), limit));
  }
  return x;
}

// Steps 1–5 (see npy.hpp) for one file, accepting the dtypes of `want`.
NpyArray read_as(const std::string& path, const std::string& name, Want want) {
  // 1. a regular file, of at most the memory limit plus the largest header (files.hpp), opened
  CheckedFile file = open_checked(path, name, max_npy_bytes);
  std::ifstream& in = file.in;
  const std::uintmax_t file_bytes = file.bytes;
  files_read().insert(fs::path(path).lexically_normal().string());

  // 2. magic string and version: "\x93NUMPY", major, minor, header length (2 or 4 bytes, LE), header
  unsigned char pre[12] = {};
  in.read(reinterpret_cast<char*>(pre), 10);
  if (in.gcount() < 10 || std::memcmp(pre, "\x93NUMPY", 6) != 0) {
    throw usage_error(name + ": not a .npy file (no \\x93NUMPY magic string)");
  }
  const std::uint32_t major = pre[6];
  if (major < 1 || major > 3) throw usage_error(fmt::format("{}: unsupported .npy version {}", name, major));
  std::size_t header_len = pre[8] | (pre[9] << 8), header_start = 10;
  if (major > 1) {
    in.read(reinterpret_cast<char*>(pre + 10), 2);
    if (in.gcount() < 2) throw usage_error(name + ": truncated .npy header");
    header_len |= (std::size_t{pre[10]} << 16) | (std::size_t{pre[11]} << 24);
    header_start = 12;
  }
  if (header_len > 65535) {
    throw usage_error(
        fmt::format("{}: a header of {} bytes is far too long for a plain array", name, header_len));
  }
  if (header_start + header_len > file_bytes) throw usage_error(name + ": truncated .npy header");
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));

  // the header dict: descr (checked against what the loader wants), fortran_order, shape
  NpyArray array;
  const std::size_t i = find_value(header, "descr", name);
  const std::size_t end = header.find('\'', i + 1);
  if (i >= header.size() || header[i] != '\'' || end == std::string::npos) {
    throw usage_error(name + ": not a valid .npy file (bad descr in header)");
  }
  array.descr = header.substr(i + 1, end - i - 1);
  if (!accepts(want, array.descr)) {
    throw usage_error(fmt::format("{}: expected {}, found {}", name, wanted(want), dtype_name(array.descr)));
  }
  const std::size_t itemsize = array.descr == "|b1" ? 1 : array.descr == "<f4" ? 4 : 8;
  const std::size_t order = find_value(header, "fortran_order", name);
  if (header.compare(order, 4, "True") == 0) {
    throw usage_error(name + ": Fortran-order arrays are not supported; save np.ascontiguousarray(x)");
  }
  if (header.compare(order, 5, "False") != 0) {
    throw usage_error(name + ": not a valid .npy file (bad fortran_order in header)");
  }
  array.shape = parse_shape(header, name);

  // 3. no empty array, nothing larger than the memory limit
  if (std::find(array.shape.begin(), array.shape.end(), 0) != array.shape.end()) {
    throw usage_error(fmt::format("{} has shape {}: an empty array (a dimension of 0) is not accepted", name,
                                  shown(array.shape)));
  }
  double elements = 1;
  for (const std::size_t d : array.shape) elements *= static_cast<double>(d);
  if (8.0 * elements > memory_limit_bytes) {
    throw usage_error(fmt::format(
        "{} has shape {}: {:.3g} values would need {} as float64, more than the limit of {}", name,
        shown(array.shape), elements, format_bytes(8.0 * elements), format_bytes(memory_limit_bytes)));
  }
  const std::size_t count = static_cast<std::size_t>(elements);

  // 4. the file holds exactly product(shape) × itemsize bytes after the header
  const std::uintmax_t need = count * itemsize, have = file_bytes - (header_start + header_len);
  if (have != need) {
    const std::uintmax_t per_item = have % count == 0 ? have / count : 0;
    const bool other_itemsize =
        (per_item == 1 || per_item == 2 || per_item == 4 || per_item == 8) && per_item != itemsize;
    throw usage_error(fmt::format(
        "{}: {} data: shape {} of {} needs {} bytes, the file has {}{}", name,
        have < need ? "truncated" : "unexpected extra", shown(array.shape), dtype_name(array.descr), need,
        have,
        other_itemsize ? fmt::format(" ({}-byte items: is the dtype in the header wrong?)", per_item) : ""));
  }

  // 5. the values, read in chunks and checked one by one
  if (array.descr == "<i8") {
    array.integers.resize(count);
  } else {
    array.values.resize(count);
  }
  std::vector<char> chunk(1 << 16);
  for (std::size_t k = 0; k < count;) {
    const std::size_t n = std::min(count - k, chunk.size() / itemsize);
    in.read(chunk.data(), static_cast<std::streamsize>(n * itemsize));
    if (static_cast<std::size_t>(in.gcount()) != n * itemsize) {
      throw usage_error(name + ": truncated data (the file changed while it was read)");
    }
    for (std::size_t j = 0; j < n; ++j, ++k) {
      const char* item = chunk.data() + j * itemsize;
      if (array.descr == "<f8") {
        double x;
        std::memcpy(&x, item, 8);
        array.values[k] = checked_value(x, k, array, name);
      } else if (array.descr == "<f4") {
        float x;
        std::memcpy(&x, item, 4);
        array.values[k] = checked_value(x, k, array, name);
      } else if (array.descr == "<i8") {
        std::memcpy(&array.integers[k], item, 8);
      } else {
        const unsigned char b = static_cast<unsigned char>(*item);
        if (b > 1) {
          throw usage_error(fmt::format("{} holds the byte {}{}: a bool must be 0 or 1", name, b,
                                        index_string(k, array.shape)));
        }
        array.values[k] = b;
      }
    }
  }
  return array;
}

// Reads DIR/NAME.npy with the dtypes of `want` and checks its rank.
NpyArray read_checked(const std::string& dir, const std::string& name, std::size_t rank, Want want,
                      const std::string& dims) {
  const std::string file = name + ".npy";
  NpyArray a = read_as(path_of(dir, name), file, want);
  if (a.shape.size() != rank) {
    throw usage_error(
        fmt::format("{}: expected a {}-D array {}, got shape {}", file, rank, dims, shown(a.shape)));
  }
  return a;
}

}  // namespace

NpyArray read_npy(const std::string& path, const std::string& name) {
  return read_as(path, name, Want::any);
}

bool npy_exists(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const fs::file_status st =
      fs::symlink_status(path_of(dir, name), ec);  // the entry itself: links unfollowed
  return st.type() != fs::file_type::not_found && st.type() != fs::file_type::none;
}

Matrix load_matrix(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 2, Want::floats, dims);
  Matrix m = Matrix::from_shape({a.shape[0], a.shape[1]});
  std::copy(a.values.begin(), a.values.end(), m.begin());
  return m;
}

Vector load_vector(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 1, Want::floats, dims);
  Vector v = Vector::from_shape({a.shape[0]});
  std::copy(a.values.begin(), a.values.end(), v.begin());
  return v;
}

Tensor3 load_tensor3(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 3, Want::floats, dims);
  Tensor3 t = Tensor3::from_shape({a.shape[0], a.shape[1], a.shape[2]});
  std::copy(a.values.begin(), a.values.end(), t.begin());
  return t;
}

Tensor4 load_tensor4(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 4, Want::floats, dims);
  Tensor4 t = Tensor4::from_shape({a.shape[0], a.shape[1], a.shape[2], a.shape[3]});
  std::copy(a.values.begin(), a.values.end(), t.begin());
  return t;
}

double load_scalar(const std::string& dir, const std::string& name) {
  return read_checked(dir, name, 0, Want::floats, "(a scalar, shape ())").values[0];
}

BoolMatrix load_bool_matrix(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 2, Want::bools, dims);
  BoolMatrix m = BoolMatrix::from_shape({a.shape[0], a.shape[1]});
  std::transform(a.values.begin(), a.values.end(), m.begin(), [](double x) { return x != 0.0; });
  return m;
}

BoolVector load_bool_vector(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 1, Want::bools, dims);
  BoolVector v = BoolVector::from_shape({a.shape[0]});
  std::transform(a.values.begin(), a.values.end(), v.begin(), [](double x) { return x != 0.0; });
  return v;
}

Int64Vector load_int64_vector(const std::string& dir, const std::string& name, const std::string& dims) {
  const NpyArray a = read_checked(dir, name, 1, Want::int64s, dims);
  Int64Vector v = Int64Vector::from_shape({a.shape[0]});
  std::copy(a.integers.begin(), a.integers.end(), v.begin());
  return v;
}

void require_no_unread_files(const std::string& dir, const std::vector<std::string>& outputs,
                             const std::string& layout) {
  std::vector<std::string> unread;  // file names, sorted below
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path file = it->path().filename();
    if (file.extension() != ".npy") continue;
    const bool read = files_read().count((fs::path(dir) / file).lexically_normal().string()) > 0;
    const bool output = std::find(outputs.begin(), outputs.end(), file.stem().string()) != outputs.end();
    if (!read && !output) unread.push_back(file.string());
  }
  if (ec)
    throw usage_error(fmt::format("--load {}: cannot list the directory ({})", shorten(dir), ec.message()));
  if (!unread.empty()) {
    std::sort(unread.begin(), unread.end());
    throw usage_error(
        fmt::format("{}{} is not one of {}: an unexpected file is an error, as in "
                    "PyTorch's strict load_state_dict",
                    shorten(unread[0], 60),
                    unread.size() > 1 ? fmt::format(" (and {} more)", unread.size() - 1) : "", layout));
  }
  unread_checked = true;
}

bool unread_files_checked() {
  return unread_checked;
}

void require_shape(const std::string& name, const std::vector<std::size_t>& actual,
                   const std::vector<std::size_t>& expected, const std::string& dims) {
  if (actual != expected) {
    throw usage_error(
        fmt::format("{} has shape {}, expected {} = {}", name, shown(actual), dims, shown(expected)));
  }
}

void require_finite_result(const std::string& what, const double* data, std::size_t count) {
  for (std::size_t k = 0; k < count; ++k) {
    if (!std::isfinite(data[k])) {
      throw usage_error(
          fmt::format("{} holds {} (entry {}): the computation overflowed float64; the loaded "
                      "values are too large in magnitude for it",
                      what, data[k], k));
    }
  }
}

void save_npy(const std::string& dir, const std::string& name, const std::vector<std::size_t>& shape,
              const double* data) {
  std::size_t count = 1;
  for (std::size_t d : shape) count *= d;
  require_finite_result(name + ".npy", data, count);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw usage_error(fmt::format("cannot create directory {} ({})", shorten(dir), ec.message()));
  // Header: the dict, padded with spaces and ended by '\n' so that 10 + len is a multiple of 64.
  std::string header =
      fmt::format("{{'descr': '<f8', 'fortran_order': False, 'shape': {}, }}", shape_string(shape));
  const std::size_t total = 10 + header.size() + 1;
  header += std::string((64 - total % 64) % 64, ' ') + "\n";

  const std::string path = path_of(dir, name);
  std::ofstream out = create_checked(path);  // never a FIFO (it would block) or a directory
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
  out.close();
  if (!out) throw usage_error(fmt::format("cannot write {} ({})", shorten(path), std::strerror(errno)));
}

void save_scalar(const std::string& dir, const std::string& name, double value) {
  save_npy(dir, name, {}, &value);
}

}  // namespace course
