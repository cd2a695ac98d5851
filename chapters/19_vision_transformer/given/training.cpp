// Chapter 19 — given code (declared in chapters/19_vision_transformer/given.hpp): training both models on
// the same batches, predicting, counting their work, and what the heads learned.
#include "19_vision_transformer/given.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

// minGPT's groups: matrices and kernels decay; biases, norms, cls and pos do not
bool decays_in_vit_or_cnn(const NamedTensor& t) {
  return t.shape.size() >= 2 && t.name != "cls" && t.name != "pos";
}

// a permutation per pass, cut into batches of B
std::vector<std::vector<std::size_t>> batch_order(Rng& rng, std::size_t images, std::size_t B,
                                                  std::size_t steps) {
  if (B == 0 || B > images)
    throw std::invalid_argument(fmt::format("batch_order: batches of {} from {}", B, images));
  std::vector<std::vector<std::size_t>> batches;
  std::vector<std::size_t> order;
  std::size_t next = images;  // the next unused place of order: a new pass at once
  while (batches.size() < steps) {
    if (next + B > images) {
      order = rng.permutation(images);
      next = 0;
    }
    batches.emplace_back(order.begin() + next, order.begin() + next + B);
    next += B;
  }
  return batches;
}

namespace {
template <class Model, class Forward>
std::vector<std::size_t> predict_in_chunks(const Model& model, const ImageSet& set,
                                           const std::vector<std::size_t>& indices, const PixelScale& scale,
                                           Forward forward) {
  std::vector<std::size_t> predictions;
  for (std::size_t start = 0; start < indices.size(); start += 250) {
    const std::size_t end = std::min(indices.size(), start + 250);
    const std::vector<std::size_t> chunk(indices.begin() + start, indices.begin() + end);
    for (std::size_t p : argmax_rows(forward(model, images_tensor(set, chunk, scale)).logits))
      predictions.push_back(p);
  }
  return predictions;
}
}  // namespace

std::vector<std::size_t> predict(const TinyVit& model, const ImageSet& set,
                                 const std::vector<std::size_t>& indices, const PixelScale& scale) {
  return predict_in_chunks(model, set, indices, scale, tiny_vit_forward);
}

std::vector<std::size_t> predict(const SmallCnn& model, const ImageSet& set,
                                 const std::vector<std::size_t>& indices, const PixelScale& scale) {
  return predict_in_chunks(model, set, indices, scale, small_cnn_forward);
}

double accuracy_of(const std::vector<std::size_t>& predictions, const std::vector<std::size_t>& labels) {
  if (predictions.size() != labels.size() || labels.empty())
    throw std::invalid_argument("accuracy_of: predictions and labels differ in length or are empty");
  std::size_t right = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) right += predictions[i] == labels[i];
  return static_cast<double>(right) / static_cast<double>(labels.size());
}

// forward per image, times 3 (the backward is about twice the forward)
double vit_step_multiply_adds(const TinyVitConfig& c, std::size_t batch) {
  const double n = static_cast<double>(c.patches()), L = n + 1, E = static_cast<double>(c.d_model),
               F = static_cast<double>(c.d_ff);
  const double block = L * (4 * E * E + 2 * E * F) + 2 * L * L * E;
  const double forward = n * static_cast<double>(c.patch_size()) * E +
                         static_cast<double>(c.n_layers) * block + static_cast<double>(c.classes) * E;
  return 3.0 * forward * static_cast<double>(batch);
}

double cnn_step_multiply_adds(const CnnConfig& c, std::size_t batch) {
  double forward = 0.0, side = static_cast<double>(c.image), c_in = static_cast<double>(c.channels);
  for (std::size_t width : c.widths) {
    side = std::floor((side + 2.0 * kCnnConv.padding - kCnnKernel) / kCnnConv.stride) + 1.0;
    forward += static_cast<double>(width) * side * side * c_in * kCnnKernel * kCnnKernel;
    c_in = static_cast<double>(width);
  }
  forward += static_cast<double>(c.classes) * c_in;
  return 3.0 * forward * static_cast<double>(batch);
}

// --- what the heads learned -----------------------------------------------------------------------------

std::vector<std::vector<double>> attention_distances(const TinyVit& model, const TinyVitForward& f) {
  const TinyVitConfig& c = model.config;
  std::vector<std::vector<double>> d(f.blocks.size(), std::vector<double>(c.n_heads, 0.0));
  for (std::size_t l = 0; l < f.blocks.size(); ++l) {
    const Tensor4& w = f.blocks[l].saved.attention.weights;  // (B, H, L, L)
    for (std::size_t h = 0; h < c.n_heads; ++h) {
      for (std::size_t b = 0; b < f.batch; ++b) {
        const Matrix head = xt::view(w, b, h, xt::all(), xt::all());
        d[l][h] += mean_attention_distance(head, c.grid(), c.patch);
      }
      d[l][h] /= static_cast<double>(f.batch);
    }
  }
  return d;
}

double uniform_attention_distance(const TinyVitConfig& c) {
  const std::size_t L = c.patches() + 1;
  const Matrix uniform = xt::ones<double>({L, L}) / static_cast<double>(L);
  return mean_attention_distance(uniform, c.grid(), c.patch);
}

Matrix position_similarity(const TinyVit& model) {
  const std::size_t n = model.config.patches(), E = model.config.d_model;
  Matrix s = Matrix::from_shape({n, n});
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      double dot = 0.0, ni = 0.0, nj = 0.0;
      for (std::size_t k = 0; k < E; ++k) {
        const double a = model.pos(1 + i, k), b = model.pos(1 + j, k);
        dot += a * b;
        ni += a * a;
        nj += b * b;
      }
      s(i, j) = dot / std::sqrt(ni * nj + 1e-300);
    }
  return s;
}

SimilarityByPlace similarity_by_place(const Matrix& s, std::size_t cols) {
  double sum[3] = {0, 0, 0}, count[3] = {0, 0, 0};
  for (std::size_t i = 0; i < s.shape(0); ++i)
    for (std::size_t j = 0; j < s.shape(1); ++j) {
      if (i == j) continue;
      const int k = i / cols == j / cols ? 0 : (i % cols == j % cols ? 1 : 2);
      sum[k] += s(i, j);
      count[k] += 1;
    }
  auto mean = [&](int k) { return count[k] > 0 ? sum[k] / count[k] : 0.0; };
  return {mean(0), mean(1), mean(2)};
}

Matrix class_attention(const TinyVitForward& f, std::size_t b, std::size_t grid) {
  const Tensor4& w = f.blocks.back().saved.attention.weights;  // (B, H, L, L)
  const std::size_t H = w.shape(1);
  Matrix a = xt::zeros<double>({grid, grid});
  for (std::size_t h = 0; h < H; ++h)
    for (std::size_t i = 0; i < grid * grid; ++i)
      a(i / grid, i % grid) += w(b, h, 0, 1 + i) / static_cast<double>(H);
  return a;
}

}  // namespace course
