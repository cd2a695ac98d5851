// Chapter 19 — given code (declared in chapters/19_vision_transformer/given.hpp): the TinyViT, its
// state_dict, forward and backward.
#include "01_tensors/given.hpp"            // linear
#include "04_masking/given.hpp"            // no_mask
#include "11_transformer_block/given.hpp"  // random_encoder_layer, load_encoder_layer
#include "19_vision_transformer/given.hpp"
#include "cli.hpp"  // usage_error
#include "linalg.hpp"
#include "npy.hpp"
#include "pytorch.hpp"  // count_numbered_layers

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

namespace {
void require_config(const TinyVitConfig& c, const char* who) {
  if (c.channels == 0 || c.image == 0 || c.patch == 0 || c.image % c.patch != 0 || c.d_model == 0 ||
      c.n_heads == 0 || c.d_model % c.n_heads != 0 || c.d_ff == 0 || c.n_layers == 0 || c.classes == 0) {
    throw std::invalid_argument(
        fmt::format("{}: sizes must be positive, the patch must divide the image and n_heads d_model", who));
  }
}
}  // namespace

// patch uniform ±1/√(CPP), cls 0, pos N(0, 0.02²), blocks, norm 1 and 0, head ±1/√E
TinyVit random_tiny_vit(Rng& rng, const TinyVitConfig& c) {
  require_config(c, "random_tiny_vit");
  TinyVit m;
  m.config = c;
  const std::size_t D = c.patch_size(), E = c.d_model;
  const double a = 1.0 / std::sqrt(static_cast<double>(D));
  const Matrix w = rng.uniform_matrix(E, D, -a, a);
  m.patch_weight = Tensor4::from_shape({E, c.channels, c.patch, c.patch});
  std::copy(w.begin(), w.end(), m.patch_weight.begin());
  m.patch_bias = xt::flatten(rng.uniform_matrix(1, E, -a, a));
  m.cls = xt::zeros<double>({std::size_t{1}, E});
  m.pos = 0.02 * rng.normal_matrix(c.patches() + 1, E);
  for (std::size_t l = 0; l < c.n_layers; ++l)
    m.blocks.push_back(random_encoder_layer(rng, E, c.d_ff, NormInit{1.0, 1.0, 0.0, 0.0}));
  m.norm_weight = xt::ones<double>({E});
  m.norm_bias = xt::zeros<double>({E});
  const double h = 1.0 / std::sqrt(static_cast<double>(E));
  m.head_weight = rng.uniform_matrix(c.classes, E, -h, h);
  m.head_bias = xt::flatten(rng.uniform_matrix(1, c.classes, -h, h));
  return m;
}

std::vector<NamedTensor> named_tensors(TinyVit& m) {
  std::vector<NamedTensor> t;
  t.push_back(named_tensor("cls", m.cls));
  t.push_back(named_tensor("pos", m.pos));
  add_weight_and_bias(t, "patch", m.patch_weight, m.patch_bias);
  for (std::size_t l = 0; l < m.blocks.size(); ++l) {
    for (NamedTensor& n : named_tensors(m.blocks[l], fmt::format("blocks.{}.", l))) t.push_back(std::move(n));
  }
  add_weight_and_bias(t, "norm", m.norm_weight, m.norm_bias);
  add_weight_and_bias(t, "head", m.head_weight, m.head_bias);
  return t;
}

// every size from the files: C, P, E from patch.weight, n from pos, F from linear1, K from head
TinyVit load_tiny_vit(const std::string& dir, std::size_t S, std::size_t n_heads) {
  TinyVit m;
  // 1. the patch embedding: a Conv2d(C, E, P, stride=P)
  m.patch_weight = load_tensor4(dir, "patch.weight", "(E, C, P, P)");
  const std::size_t E = m.patch_weight.shape(0), C = m.patch_weight.shape(1), P = m.patch_weight.shape(2);
  require_shape("patch.weight.npy", m.patch_weight, {E, C, P, P}, "(E, C, P, P): a square patch");
  if (E == 0 || C == 0 || P == 0) throw usage_error(fmt::format("{}/patch.weight.npy is empty", dir));
  if (S % P != 0) {
    throw usage_error(
        fmt::format("images.npy holds {} x {} images, which patches of {} x {} (patch.weight.npy) "
                    "do not divide",
                    S, S, P, P));
  }
  m.patch_bias = load_vector(dir, "patch.bias", "(E,)");
  require_shape("patch.bias.npy", m.patch_bias, {E}, "(E,) with the E of patch.weight");
  // 2. the class token and the positions: n + 1 rows, n = (S / P)²
  m.cls = load_matrix(dir, "cls", "(1, E)");
  require_shape("cls.npy", m.cls, {1, E}, "(1, E) with the E of patch.weight");
  const std::size_t n = (S / P) * (S / P);
  m.pos = load_matrix(dir, "pos", "(n+1, E)");
  require_shape("pos.npy", m.pos, {n + 1, E},
                fmt::format("(n+1, E) with n = ({}/{})² = {} patches", S, P, n));
  // 3. the blocks (chapter 11's keys under blocks.N.)
  const std::size_t n_layers = count_numbered_layers(dir, "blocks.");
  for (std::size_t l = 0; l < n_layers; ++l) {
    const std::string prefix = fmt::format("blocks.{}.", l);
    m.blocks.push_back(load_encoder_layer(dir, prefix));
    require_shape(prefix + "self_attn.in_proj_weight.npy", m.blocks.back().self_attn.in_proj_weight,
                  {3 * E, E}, "(3E, E) with the E of patch.weight");
  }
  if (m.blocks.empty()) throw usage_error(fmt::format("{}: no blocks.0.self_attn.in_proj_weight.npy", dir));
  const std::size_t F = m.blocks[0].linear1_weight.shape(0);
  for (std::size_t l = 0; l < m.blocks.size(); ++l) {
    if (m.blocks[l].linear1_weight.shape(0) != F) {
      throw usage_error(fmt::format("blocks.{}.linear1.weight.npy has {} rows but blocks.0 has {}", l,
                                    m.blocks[l].linear1_weight.shape(0), F));
    }
  }
  // 4. the final norm and the head
  m.norm_weight = load_vector(dir, "norm.weight", "(E,)");
  require_shape("norm.weight.npy", m.norm_weight, {E}, "(E,)");
  m.norm_bias = load_vector(dir, "norm.bias", "(E,)");
  require_shape("norm.bias.npy", m.norm_bias, {E}, "(E,)");
  m.head_weight = load_matrix(dir, "head.weight", "(K, E)");
  const std::size_t K = m.head_weight.shape(0);
  require_shape("head.weight.npy", m.head_weight, {K, E}, "(K, E) with the E of patch.weight");
  if (K == 0) throw usage_error(fmt::format("{}/head.weight.npy has no rows", dir));
  m.head_bias = load_vector(dir, "head.bias", "(K,)");
  require_shape("head.bias.npy", m.head_bias, {K}, "(K,) with the K of head.weight");
  if (n_heads == 0 || E % n_heads != 0) {
    throw usage_error(fmt::format("--heads {} does not divide d_model = {} of patch.weight.npy", n_heads, E));
  }
  m.config = {C, S, P, E, n_heads, F, m.blocks.size(), K};
  return m;
}

// patches -> tokens; [cls; tokens] + pos; blocks; norm of the class rows; head
TinyVitForward tiny_vit_forward(const TinyVit& model, const Tensor4& images) {
  const TinyVitConfig& c = model.config;
  const std::size_t B = images.shape(0), n = c.patches(), D = c.patch_size(), E = c.d_model, L = n + 1;
  if (B == 0 || images.shape(1) != c.channels || images.shape(2) != c.image || images.shape(3) != c.image) {
    throw std::invalid_argument(fmt::format("tiny_vit_forward: images {} are not (B, {}, {}, {})",
                                            shape_of(images), c.channels, c.image, c.image));
  }
  TinyVitForward f;
  f.batch = B;
  // 1. the patches of every image (chapter 08's order), and patch.weight as chapter 08's w = W_convᵀ
  f.patches = Matrix::from_shape({B * n, D});
  for (std::size_t b = 0; b < B; ++b) {
    const Tensor3 image = xt::view(images, b, xt::all(), xt::all(), xt::all());
    const Matrix p = image_to_patches(image, c.patch);
    std::copy(p.begin(), p.end(), f.patches.begin() + b * n * D);
  }
  f.patch_w = Matrix::from_shape({D, E});
  for (std::size_t e = 0; e < E; ++e)
    for (std::size_t k = 0; k < D; ++k) f.patch_w(k, e) = model.patch_weight.data()[e * D + k];
  const Matrix tokens = patch_embedding(f.patches, f.patch_w, model.patch_bias);  // (B·n, E)
  // 2. each image's sequence: the class token, then its patches; plus the positions
  Matrix x = Matrix::from_shape({B * L, E});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < L; ++t)
      for (std::size_t j = 0; j < E; ++j)
        x(b * L + t, j) = (t == 0 ? model.cls(0, j) : tokens(b * n + t - 1, j)) + model.pos(t, j);
  // 3. the blocks: pre-norm encoder layers with exact GELU, every token sees every token
  const BoolMatrix none = no_mask(L, L);
  for (const EncoderLayerWeights& w : model.blocks) {
    f.blocks.push_back(
        encoder_layer_forward(x, L, w, c.n_heads, /*norm_first=*/true, Activation::gelu, none));
    x = f.blocks.back().output;
  }
  // 4. the class token's row of each image, normed, through the head
  Matrix first = Matrix::from_shape({B, E});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t j = 0; j < E; ++j) first(b, j) = x(b * L, j);
  f.normed = layer_norm_forward(first, model.norm_weight, model.norm_bias, f.norm);
  f.logits = linear(f.normed, model.head_weight, model.head_bias);
  return f;
}

// head, final norm, blocks from the last, then pos, cls and the patch embedding
TinyVit tiny_vit_backward(const TinyVit& model, const TinyVitForward& f, const Matrix& grad_logits) {
  const TinyVitConfig& c = model.config;
  const std::size_t B = f.batch, n = c.patches(), E = c.d_model, L = n + 1, D = c.patch_size();
  if (grad_logits.shape(0) != B || grad_logits.shape(1) != c.classes) {
    throw std::invalid_argument(
        fmt::format("tiny_vit_backward: grad_logits is {} but the logits are ({}, {})", shape_of(grad_logits),
                    B, c.classes));
  }
  TinyVit g;
  g.config = c;
  // 4. the head (chapter 13's linear_backward) and the final norm (chapter 14's layer_norm_backward)
  LinearGradients head = linear_backward(f.normed, model.head_weight, grad_logits);
  g.head_weight = std::move(head.weight);
  g.head_bias = std::move(head.bias);
  LayerNormGradients norm = layer_norm_backward(f.norm, model.norm_weight, head.x);
  g.norm_weight = std::move(norm.weight);
  g.norm_bias = std::move(norm.bias);
  // only the class token's rows reached the head
  Matrix dx = xt::zeros<double>({B * L, E});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t j = 0; j < E; ++j) dx(b * L, j) = norm.x(b, j);
  // 3. the blocks, last first
  g.blocks.resize(model.blocks.size());
  for (std::size_t l = model.blocks.size(); l-- > 0;) {
    EncoderLayerGradients lg = encoder_layer_backward(f.blocks[l].saved, model.blocks[l], dx);
    g.blocks[l] = std::move(lg.weights);
    dx = std::move(lg.src);
  }
  // 2. pos is added to every image's sequence, cls is every sequence's first row
  g.pos = xt::zeros<double>({L, E});
  g.cls = xt::zeros<double>({std::size_t{1}, E});
  Matrix d_tokens = Matrix::from_shape({B * n, E});
  for (std::size_t b = 0; b < B; ++b)
    for (std::size_t t = 0; t < L; ++t)
      for (std::size_t j = 0; j < E; ++j) {
        g.pos(t, j) += dx(b * L + t, j);
        if (t == 0)
          g.cls(0, j) += dx(b * L, j);
        else
          d_tokens(b * n + t - 1, j) = dx(b * L + t, j);
      }
  // 1. the patch embedding (your exercise), w's gradient put back in patch.weight's (E, C, P, P)
  PatchEmbeddingGradients pe = patch_embedding_backward(f.patches, f.patch_w, d_tokens);
  g.patch_weight = Tensor4::from_shape(model.patch_weight.shape());
  for (std::size_t e = 0; e < E; ++e)
    for (std::size_t k = 0; k < D; ++k) g.patch_weight.data()[e * D + k] = pe.w(k, e);
  g.patch_bias = std::move(pe.b);
  return g;
}

TinyVitLossAndGradients tiny_vit_loss_and_gradients(const TinyVit& model, const Tensor4& images,
                                                    const std::vector<std::size_t>& labels) {
  TinyVitLossAndGradients r;
  r.forward = tiny_vit_forward(model, images);
  LossAndGradient lg = softmax_cross_entropy(r.forward.logits, labels);
  r.loss = lg.loss;
  r.grads = tiny_vit_backward(model, r.forward, lg.grad);
  return r;
}

Tensor4 load_vit_images(const std::string& dir) {
  Tensor4 images = load_tensor4(dir, "images", "(B, C, S, S)");
  const std::size_t B = images.shape(0), C = images.shape(1), S = images.shape(2);
  require_shape("images.npy", images, {B, C, S, S}, "(B, C, S, S): square images");
  if (B == 0 || C == 0 || S == 0) throw usage_error(fmt::format("{}/images.npy is empty", dir));
  return images;
}

std::vector<std::size_t> load_vit_labels(const std::string& dir, std::size_t B, std::size_t K) {
  const Int64Vector v = load_int64_vector(dir, "labels", "(B,)");
  if (v.size() != B)
    throw usage_error(fmt::format("labels.npy holds {} labels for the {} images of images.npy", v.size(), B));
  std::vector<std::size_t> labels;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v(i) < 0 || v(i) >= static_cast<std::int64_t>(K))
      throw usage_error(
          fmt::format("labels.npy: entry {} is {}, not a class in [0, {}) of head.weight", i, v(i), K));
    labels.push_back(static_cast<std::size_t>(v(i)));
  }
  return labels;
}

}  // namespace course
