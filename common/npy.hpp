// Checked .npy input and output (NumPy's format, version 1.0–3.0), for PyTorch interop.
//
// xt::load_npy does not check truncated data, rank or size (trap 7 in CONTRIBUTING.md), so we read the
// format ourselves. Every problem is a usage_error naming the file (the program prints one line and
// exits 2), found in this order, so that nothing blocks, and nothing big is read, before it is known
// to be needed:
//   1. the path is a regular file (not a directory, a FIFO, a device such as /dev/zero, a socket, a
//      symlink loop): checked before the file is opened, so a FIFO cannot block the program and
//      /dev/zero cannot be read forever;
//   2. the header: the magic string, the version, the dtype (little-endian float64 '<f8', float32
//      '<f4', bool '|b1' or int64 '<i8'), C order and the shape. Each loader names the dtype it
//      expects and the one it found (a mask given as floats, floats marked bool, token ids as floats);
//   3. the shape: no dimension is 0 (every loader refuses an empty array; PyTorch's layers refuse
//      empty sequences too), and the array fits in memory_limit_bytes (cli.hpp) as float64;
//   4. the file's size, compared with header + product(shape) × itemsize before any data is read, so
//      a truncated file, extra bytes or a huge file behind a small header are caught without reading;
//   5. the values: a bool is the byte 0 or 1; a float is finite (no NaN, no ±inf) and
//      |x| <= max_abs_value. Dtype, rank and shape come from the file; the sizes a chapter needs
//      (e.g. key.npy has the E of query.npy) are checked by the caller with require_shape.
//
// Why every float is bounded by max_abs_value = 1e15, and what that guarantees:
// no weight, activation or gradient of a trained network comes near 1e15 (float16 stops at 65504; a
// float32 network whose numbers reached 1e15 has diverged), but 1e300 is one multiplication away from
// float64's largest number (1.8e308). A product of k loaded numbers is at most 1e15^k, and a sum of
// n such products n times that, so the longest chains the chapters compute stay finite with room to
// spare: attention's scores q·k are at most E·1e30, chapter 05's scores after in_proj about E^2.5·1e60,
// and chapter 11's layer norm squares numbers of about E²·1e45 (after in_proj, attention and
// out_proj). So an input either computes correctly or is refused here, with the file and the entry.
//
// The second half of the rule, for whatever a future chapter chains beyond that: a computed result
// is checked with require_finite_result before it is printed or saved (and save_npy refuses inf and
// NaN itself), so an overflow is a one-line error (exit 2), never a printed NaN or a failed
// self-check. Self-checks that compare loaded-file results must scale their tolerance with the
// inputs' magnitude (chapter 12 does), as values up to 1e15 are valid.
#pragma once
#include "tensor.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace course {

// The largest |x| a loaded float may have (see above).
constexpr double max_abs_value = 1e15;

// An array as read from disk: dtype string ('<f8', '<f4', '|b1', '<i8'), shape (empty for a 0-d
// array, which holds one value) and the values in C order: floats and bools (as 0 and 1) in `values`,
// int64 in `integers`.
struct NpyArray {
  std::string descr;
  std::vector<std::size_t> shape;
  std::vector<double> values;
  std::vector<std::int64_t> integers;
};

// Reads and checks one .npy file of any of the four dtypes (steps 1–5 above). `name` is how errors
// refer to it (e.g. "query.npy").
NpyArray read_npy(const std::string& path, const std::string& name);

// Something is at DIR/NAME.npy (a file, or a directory, FIFO or broken link that loading will refuse
// with a clear message), so an optional input is "given". Never throws.
bool npy_exists(const std::string& dir, const std::string& name);

// Loads DIR/NAME.npy (float64 or float32) as a matrix / vector / 3-D / 4-D tensor. `dims` names the
// expected shape in the error message, e.g. "(L, E)". The rank is checked here; sizes by the caller.
Matrix load_matrix(const std::string& dir, const std::string& name, const std::string& dims);
Vector load_vector(const std::string& dir, const std::string& name, const std::string& dims);
Tensor3 load_tensor3(const std::string& dir, const std::string& name, const std::string& dims);
Tensor4 load_tensor4(const std::string& dir, const std::string& name, const std::string& dims);
// Loads a 0-d float array (shape (), what np.save writes for a scalar such as a loss).
double load_scalar(const std::string& dir, const std::string& name);
// Loads a boolean mask (dtype bool, '|b1'); any other dtype is an error.
BoolMatrix load_bool_matrix(const std::string& dir, const std::string& name, const std::string& dims);
BoolVector load_bool_vector(const std::string& dir, const std::string& name, const std::string& dims);
// Loads int64 ('<i8') values, e.g. token ids (T,); floats are refused, as int64 is where floats go.
// Their range (0 <= id < vocabulary) is the caller's to check.
Int64Vector load_int64_vector(const std::string& dir, const std::string& name, const std::string& dims);

// The rule "an unexpected file is an error", as PyTorch's strict load_state_dict refuses an unexpected
// key: a --load directory may hold only the .npy files the program read from it (every loader above
// remembers what it read) and those named in `outputs` (without .npy): what the program writes with
// --save, which may name the same directory, and which PyTorch's fixture directories hold beside the
// inputs. Call it once the chosen layout's files are read, before any result is shown. Throws
// usage_error naming the first other .npy file (by name) and `layout`, what the program read the
// directory as ("h_0.npy is not one of torch.nn.RNN's files: ..."), so a misnamed or partial layout
// is never silently ignored. run_program (cli.hpp) reports a --load run that never called it as an
// internal error, so no chapter can forget it.
void require_no_unread_files(const std::string& dir, const std::vector<std::string>& outputs,
                             const std::string& layout);
// Whether require_no_unread_files has run (and passed) in this program.
bool unread_files_checked();

// Throws usage_error "NAME.npy has shape (a, b) but ... expects (c, d)" unless the shapes agree.
void require_shape(const std::string& name, const std::vector<std::size_t>& actual,
                   const std::vector<std::size_t>& expected, const std::string& dims);
template <class T>
void require_shape(const std::string& name, const T& tensor, const std::vector<std::size_t>& expected,
                   const std::string& dims) {
  require_shape(name, std::vector<std::size_t>(tensor.shape().begin(), tensor.shape().end()), expected, dims);
}

// Throws usage_error "WHAT overflowed: ..." if `result` holds inf or NaN. Call it on every result
// computed from loaded files before printing or saving it (the second half of the rule above).
void require_finite_result(const std::string& what, const double* data, std::size_t count);
template <class T>
void require_finite_result(const std::string& what, const T& result) {
  require_finite_result(what, result.data(), result.size());
}

// Writes DIR/NAME.npy as little-endian float64 in C order (creates DIR if needed). Refuses data that
// holds inf or NaN (require_finite_result), so no chapter writes an overflowed result.
void save_npy(const std::string& dir, const std::string& name, const std::vector<std::size_t>& shape,
              const double* data);
template <class T>
void save_npy(const std::string& dir, const std::string& name, const T& tensor) {
  const std::vector<std::size_t> shape(tensor.shape().begin(), tensor.shape().end());
  save_npy(dir, name, shape, tensor.data());
}
// Writes DIR/NAME.npy as a 0-d float64 array (shape ()), as np.save(np.float64(x)) does.
void save_scalar(const std::string& dir, const std::string& name, double value);

}  // namespace course
