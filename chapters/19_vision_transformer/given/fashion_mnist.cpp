// Chapter 19 — given code (declared in chapters/19_vision_transformer/given.hpp): Fashion-MNIST from
// Debian's dataset-fashion-mnist package, read through zlib and checked, split and scaled.
#include "19_vision_transformer/given.hpp"
#include "cli.hpp"    // usage_error
#include "files.hpp"  // open_checked

#include <fmt/format.h>
#include <zlib.h>

#include <cmath>
#include <stdexcept>

namespace course {

const char* const kFashionClasses[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                         "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

namespace {
constexpr std::uint32_t kImagesMagic = 2051, kLabelsMagic = 2049;
constexpr std::size_t kMaxSide = 10000;

// The big-endian int32 at byte `at` (the caller checked that 4 bytes are there).
std::uint32_t big_endian(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) | (std::uint32_t{b[at + 2]} << 8) |
         std::uint32_t{b[at + 3]};
}

// The header's int32 number `i` (0 = the magic), or an error naming the file when it is too short.
std::uint32_t header_word(const std::vector<std::uint8_t>& b, std::size_t i, const std::string& name) {
  if (b.size() < 4 * (i + 1))
    throw std::invalid_argument(fmt::format("{}: {} bytes, too short for an IDX header", name, b.size()));
  return big_endian(b, 4 * i);
}

void require_magic(std::uint32_t magic, std::uint32_t expected, const std::string& name) {
  if (magic != expected)
    throw std::invalid_argument(fmt::format("{}: magic number {} where an IDX {} file has {}", name, magic,
                                            expected == kImagesMagic ? "image" : "label", expected));
}

void require_data_size(std::size_t have, std::size_t header, std::size_t data, const std::string& name) {
  if (have != header + data)
    throw std::invalid_argument(fmt::format("{}: the header promises {} bytes of data, the file holds {}",
                                            name, data, have < header ? 0 : have - header));
}
}  // namespace

// magic 2051, count, rows, cols, then the pixels
ImageSet parse_idx_images(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  require_magic(header_word(bytes, 0, name), kImagesMagic, name);
  ImageSet set;
  set.count = header_word(bytes, 1, name);
  set.rows = header_word(bytes, 2, name);
  set.cols = header_word(bytes, 3, name);
  if (set.count == 0 || set.rows == 0 || set.cols == 0 || set.rows > kMaxSide || set.cols > kMaxSide)
    throw std::invalid_argument(
        fmt::format("{}: {} images of {} x {} is not a set of images", name, set.count, set.rows, set.cols));
  require_data_size(bytes.size(), 16, set.count * set.rows * set.cols, name);
  set.pixels.assign(bytes.begin() + 16, bytes.end());
  return set;
}

// magic 2049, count, then the labels
std::vector<std::size_t> parse_idx_labels(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  require_magic(header_word(bytes, 0, name), kLabelsMagic, name);
  const std::size_t count = header_word(bytes, 1, name);
  if (count == 0) throw std::invalid_argument(fmt::format("{}: no labels", name));
  require_data_size(bytes.size(), 8, count, name);
  std::vector<std::size_t> labels(count);
  for (std::size_t i = 0; i < count; ++i) {
    labels[i] = bytes[8 + i];
    if (labels[i] >= 10)
      throw std::invalid_argument(
          fmt::format("{}: label {} is {}, not a class in [0, 10)", name, i, labels[i]));
  }
  return labels;
}

// checked path, then gzread to the end; a stream that stops early or is corrupt is an error
std::vector<std::uint8_t> read_gzip_file(const std::string& path, const std::string& name,
                                         std::size_t max_bytes, const std::string& missing) {
  // 1. a regular file of a sane size (a FIFO or a device is refused before it is opened)
  { CheckedFile checked = open_checked(path, name, max_bytes, missing); }
  // 2. decompress, chunk by chunk, at most max_bytes
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) throw usage_error(fmt::format("{}: cannot open {}", name, path));
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> chunk(1 << 16);
  int got = 0;
  while ((got = gzread(file, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0) {
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
    if (bytes.size() > max_bytes) {
      gzclose(file);
      throw usage_error(fmt::format("{}: {} decompresses to more than {} bytes", name, path, max_bytes));
    }
  }
  // 3. gzread reports a truncated stream (no gzip trailer) or corrupt data as an error
  int code = Z_OK;
  const char* message = gzerror(file, &code);
  std::string why = message == nullptr ? "" : message;  // zlib's is "PATH: what went wrong"
  if (why.rfind(": ") != std::string::npos) why = why.substr(why.rfind(": ") + 2);
  gzclose(file);
  if (got < 0 || (code != Z_OK && code != Z_STREAM_END))
    throw usage_error(
        fmt::format("{} is truncated or corrupt ({}); reinstall dataset-fashion-mnist (./course setup)", name,
                    why.empty() ? "gzread failed" : why));
  return bytes;
}

ImageSet load_fashion_mnist(const std::string& dir, const std::string& part) {
  const std::string missing = "install Debian's dataset-fashion-mnist package (./course setup)";
  const std::string images_path = fmt::format("{}/{}-images-idx3-ubyte.gz", dir, part);
  const std::string labels_path = fmt::format("{}/{}-labels-idx1-ubyte.gz", dir, part);
  // 60,000 images of 28 x 28 are 47 MB: 100 MB is more than any Fashion-MNIST file
  const std::size_t limit = 100u << 20;
  try {
    ImageSet set = parse_idx_images(read_gzip_file(images_path, images_path, limit, missing), images_path);
    set.labels = parse_idx_labels(read_gzip_file(labels_path, labels_path, limit, missing), labels_path);
    if (set.labels.size() != set.count)
      throw std::invalid_argument(fmt::format("{} holds {} images but {} holds {} labels", images_path,
                                              set.count, labels_path, set.labels.size()));
    return set;
  } catch (const std::invalid_argument& e) {
    throw usage_error(fmt::format("{} (dataset-fashion-mnist)", e.what()));
  }
}

ImageSet subset(const ImageSet& set, const std::vector<std::size_t>& indices) {
  ImageSet s;
  s.count = indices.size();
  s.rows = set.rows;
  s.cols = set.cols;
  const std::size_t size = set.rows * set.cols;
  for (std::size_t i : indices) {
    if (i >= set.count) throw std::invalid_argument(fmt::format("subset: image {} of {}", i, set.count));
    s.pixels.insert(s.pixels.end(), set.pixels.begin() + i * size, set.pixels.begin() + (i + 1) * size);
    s.labels.push_back(set.labels[i]);
  }
  return s;
}

// the last `validation` images are the validation split
Split split_training(const ImageSet& all, std::size_t validation) {
  if (validation == 0 || validation >= all.count)
    throw std::invalid_argument(
        fmt::format("split_training: {} validation images of {}", validation, all.count));
  std::vector<std::size_t> train, held;
  for (std::size_t i = 0; i < all.count; ++i) (i + validation < all.count ? train : held).push_back(i);
  return {subset(all, train), subset(all, held)};
}

PixelScale pixel_statistics(const ImageSet& set) {
  double sum = 0.0, squares = 0.0;
  for (std::uint8_t p : set.pixels) {
    const double x = p / 255.0;
    sum += x;
    squares += x * x;
  }
  const double n = static_cast<double>(set.pixels.size());
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(squares / n - mean * mean, 1e-12))};
}

Tensor4 images_tensor(const ImageSet& set, const std::vector<std::size_t>& indices, const PixelScale& scale) {
  Tensor4 t = Tensor4::from_shape({indices.size(), 1, set.rows, set.cols});
  const std::size_t size = set.rows * set.cols;
  for (std::size_t b = 0; b < indices.size(); ++b) {
    if (indices[b] >= set.count)
      throw std::invalid_argument(fmt::format("images_tensor: image {} of {}", indices[b], set.count));
    const std::uint8_t* p = set.pixels.data() + indices[b] * size;
    for (std::size_t k = 0; k < size; ++k) t.data()[b * size + k] = (p[k] / 255.0 - scale.mean) / scale.sd;
  }
  return t;
}

std::vector<std::size_t> labels_of(const ImageSet& set, const std::vector<std::size_t>& indices) {
  std::vector<std::size_t> y;
  for (std::size_t i : indices) y.push_back(set.labels.at(i));
  return y;
}

std::vector<std::size_t> class_counts(const ImageSet& set) {
  std::vector<std::size_t> counts(10, 0);
  for (std::size_t y : set.labels) ++counts[y];
  return counts;
}

std::vector<std::size_t> all_indices(std::size_t count) {
  std::vector<std::size_t> i(count);
  for (std::size_t k = 0; k < count; ++k) i[k] = k;
  return i;
}

}  // namespace course
