// Checked .npy input and output (NumPy's format, version 1.0–3.0), for PyTorch interop.
//
// xt::load_npy does not check truncated data, rank or size (trap 7 in CONTRIBUTING.md), so we read the
// format ourselves and check everything: the magic string, the dtype (float64, float32 or bool,
// little-endian), C order, the rank and the exact file size (header + product(shape) × itemsize).
// Every problem is a usage_error naming the file: the program prints one line and exits 2.
#pragma once
#include "tensor.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace course {

// An array as read from disk: dtype string ('<f8', '<f4', '|b1'), shape and the values in C order,
// converted to double (bools as 0 and 1).
struct NpyArray {
  std::string descr;
  std::vector<std::size_t> shape;
  std::vector<double> values;
};

// Reads and checks one .npy file. `name` is how errors refer to it (e.g. "query.npy").
NpyArray read_npy(const std::string& path, const std::string& name);

// DIR/NAME.npy exists.
bool npy_exists(const std::string& dir, const std::string& name);

// Loads DIR/NAME.npy (float64 or float32) as a matrix / vector. `dims` names the expected shape in
// the error message, e.g. "(L, E)". The rank is checked here; sizes are checked by the caller.
Matrix load_matrix(const std::string& dir, const std::string& name, const std::string& dims);
Vector load_vector(const std::string& dir, const std::string& name, const std::string& dims);
Tensor3 load_tensor3(const std::string& dir, const std::string& name, const std::string& dims);
Tensor4 load_tensor4(const std::string& dir, const std::string& name, const std::string& dims);
// Loads a boolean mask (dtype bool, '|b1'); any other dtype is an error.
BoolMatrix load_bool_matrix(const std::string& dir, const std::string& name, const std::string& dims);
BoolVector load_bool_vector(const std::string& dir, const std::string& name, const std::string& dims);

// Throws usage_error "NAME.npy has shape (a, b) but ... expects (c, d)" unless the shapes agree.
void require_shape(const std::string& name, const std::vector<std::size_t>& actual,
                   const std::vector<std::size_t>& expected, const std::string& dims);
template <class T>
void require_shape(const std::string& name, const T& tensor, const std::vector<std::size_t>& expected,
                   const std::string& dims) {
  require_shape(name, std::vector<std::size_t>(tensor.shape().begin(), tensor.shape().end()), expected, dims);
}

// Writes DIR/NAME.npy as little-endian float64 in C order (creates DIR if needed).
void save_npy(const std::string& dir, const std::string& name, const std::vector<std::size_t>& shape,
              const double* data);
template <class T>
void save_npy(const std::string& dir, const std::string& name, const T& tensor) {
  const std::vector<std::size_t> shape(tensor.shape().begin(), tensor.shape().end());
  save_npy(dir, name, shape, tensor.data());
}

}  // namespace course
