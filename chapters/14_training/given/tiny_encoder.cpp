// Chapter 14 — given code (declared in chapters/14_training/given.hpp): the tiny encoder the program
// trains, forward and backward.
#include "01_tensors/given.hpp"            // linear
#include "11_transformer_block/given.hpp"  // load_encoder_layer
#include "14_training/given.hpp"
#include "linalg.hpp"
#include "print.hpp"    // SelfChecks
#include "pytorch.hpp"  // count_numbered_layers

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#if defined(__GLIBC__)
#include <malloc.h>  // mallopt
#endif

namespace course {

// tok ~ N(0, 1), pos ~ N(0, 1), layers as random_encoder_layer with norms 1 and 0, head ±1/√E
TinyEncoder random_tiny_encoder(Rng& rng, const TinyEncoderConfig& c) {
  TinyEncoder m;
  m.config = c;
  m.tok = rng.normal_matrix(c.vocab, c.d_model);
  m.pos = c.positions ? rng.normal_matrix(c.seq_len, c.d_model) : Matrix(Matrix::from_shape({0, c.d_model}));
  for (std::size_t l = 0; l < c.n_layers; ++l)
    m.layers.push_back(random_encoder_layer(rng, c.d_model, c.d_ff, NormInit{1.0, 1.0, 0.0, 0.0}));
  const double a = 1.0 / std::sqrt(static_cast<double>(c.d_model));
  m.head_weight = rng.uniform_matrix(c.vocab, c.d_model, -a, a);
  m.head_bias = xt::view(rng.uniform_matrix(1, c.vocab, -a, a), 0);
  return m;
}

std::vector<NamedTensor> named_tensors(TinyEncoder& m) {
  std::vector<NamedTensor> t;
  t.push_back(named_tensor("tok.weight", m.tok));
  if (m.config.positions) t.push_back(named_tensor("pos", m.pos));
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    for (NamedTensor& n : named_tensors(m.layers[l], fmt::format("layers.{}.", l))) t.push_back(std::move(n));
  }
  t.push_back(named_tensor("head.weight", m.head_weight));
  t.push_back(named_tensor("head.bias", m.head_bias));
  return t;
}

TinyEncoder load_tiny_encoder(const std::string& dir, std::size_t n_heads, bool norm_first,
                              std::size_t seq_len) {
  TinyEncoder m;
  m.tok = load_matrix(dir, "tok.weight", "(V, E)");
  const std::size_t V = m.tok.shape(0), E = m.tok.shape(1);
  m.config.positions = npy_exists(dir, "pos");
  if (m.config.positions) {
    m.pos = load_matrix(dir, "pos", "(L, E)");
    require_shape("pos.npy", m.pos, {m.pos.shape(0), E}, "(L, E)");
    seq_len = m.pos.shape(0);
  } else {
    m.pos = Matrix::from_shape({0, E});
  }
  const std::size_t n_layers = count_numbered_layers(dir, "layers.");
  for (std::size_t l = 0; l < n_layers; ++l) {
    const std::string prefix = fmt::format("layers.{}.", l);
    m.layers.push_back(load_encoder_layer(dir, prefix));
    require_shape(prefix + "self_attn.in_proj_weight.npy", m.layers.back().self_attn.in_proj_weight,
                  {3 * E, E}, "(3E, E) with the E of tok.weight");
  }
  if (m.layers.empty()) throw usage_error(fmt::format("{}: no layers.0.self_attn.in_proj_weight.npy", dir));
  m.head_weight = load_matrix(dir, "head.weight", "(V, E)");
  require_shape("head.weight.npy", m.head_weight, {V, E}, "(V, E)");
  m.head_bias = load_vector(dir, "head.bias", "(V,)");
  require_shape("head.bias.npy", m.head_bias, {V}, "(V,)");
  if (n_heads == 0 || E % n_heads != 0) {
    throw usage_error(fmt::format("--heads {} does not divide d_model = {} of tok.weight.npy", n_heads, E));
  }
  m.config = {V,          seq_len,           E, n_heads, m.layers[0].linear1_weight.shape(0), m.layers.size(),
              norm_first, m.config.positions};
  for (std::size_t l = 0; l < m.layers.size(); ++l) {
    if (m.layers[l].linear1_weight.shape(0) != m.config.d_ff) {
      throw usage_error(fmt::format("layers.{}.linear1.weight.npy has {} rows but layers.0 has {}", l,
                                    m.layers[l].linear1_weight.shape(0), m.config.d_ff));
    }
  }
  return m;
}

// x = tok[ids] + pos;  each layer;  logits = x head.weightᵀ + head.bias
TinyEncoderForward tiny_encoder_forward(const TinyEncoder& model, const std::vector<std::size_t>& ids) {
  const TinyEncoderConfig& c = model.config;
  const std::size_t L = c.seq_len, E = c.d_model, n = ids.size();
  if (n == 0 || n % L != 0) {
    throw std::invalid_argument(
        fmt::format("tiny_encoder_forward: {} ids are not a whole number of sequences of {}", n, L));
  }
  TinyEncoderForward f;
  f.ids = ids;
  // 1. token embedding, plus the position table (row l for the l-th token of every sequence)
  Matrix x = Matrix::from_shape({n, E});
  for (std::size_t i = 0; i < n; ++i) {
    if (ids[i] >= c.vocab) {
      throw std::invalid_argument(
          fmt::format("tiny_encoder_forward: id {} is {}, not below {}", i, ids[i], c.vocab));
    }
    for (std::size_t j = 0; j < E; ++j)
      x(i, j) = model.tok(ids[i], j) + (c.positions ? model.pos(i % L, j) : 0.0);
  }
  // 2. the encoder layers, no mask
  const BoolMatrix mask = xt::zeros<bool>({L, L});
  for (const EncoderLayerWeights& w : model.layers) {
    f.layers.push_back(encoder_layer_forward(x, L, w, c.n_heads, c.norm_first, Activation::relu, mask));
    x = f.layers.back().output;
  }
  // 3. the read-out, the same linear map at every position
  f.head_input = x;
  f.logits = linear(x, model.head_weight, model.head_bias);
  return f;
}

// head, the layers from the last, then positions and embedding
TinyEncoder tiny_encoder_backward(const TinyEncoder& model, const TinyEncoderForward& forward,
                                  const Matrix& grad_logits) {
  const TinyEncoderConfig& c = model.config;
  const std::size_t L = c.seq_len, E = c.d_model, n = forward.ids.size();
  if (grad_logits.shape(0) != n || grad_logits.shape(1) != c.vocab) {
    throw std::invalid_argument(
        fmt::format("tiny_encoder_backward: grad_logits is {} but the logits are ({}, {})",
                    shape_of(grad_logits), n, c.vocab));
  }
  TinyEncoder g;
  g.config = c;
  // 3. the read-out
  const LinearGradients head = linear_backward(forward.head_input, model.head_weight, grad_logits);
  g.head_weight = head.weight;
  g.head_bias = head.bias;
  // 2. the layers, last first
  Matrix dx = head.x;
  g.layers.resize(model.layers.size());
  for (std::size_t l = model.layers.size(); l-- > 0;) {
    EncoderLayerGradients lg = encoder_layer_backward(forward.layers[l].saved, model.layers[l], dx);
    g.layers[l] = std::move(lg.weights);
    dx = std::move(lg.src);
  }
  // 1. the position table gets every sequence's row l; the embedding its tokens' rows
  g.pos = xt::zeros<double>({c.positions ? L : 0, E});
  if (c.positions) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < E; ++j) g.pos(i % L, j) += dx(i, j);
  }
  g.tok = embedding_backward(forward.ids, dx, c.vocab);
  return g;
}

// forward, loss, backward, step
double train_step(TinyEncoder& model, AdamW& optimizer, const Batch& batch) {
  const TinyEncoderForward forward = tiny_encoder_forward(model, batch.inputs);
  const LossAndGradient loss = softmax_cross_entropy(forward.logits, batch.targets);
  TinyEncoder grads = tiny_encoder_backward(model, forward, loss.grad);
  optimizer.step(named_tensors(model), named_tensors(grads));
  return loss.loss;
}

// glibc: no fresh mappings below 1 GiB, and give the heap's top back only above 1 GiB free
void keep_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

void check_training_run(SelfChecks& checks, const std::vector<double>& rerun,
                        const std::vector<double>& losses, const std::vector<std::vector<double>>& others) {
  bool same = rerun.size() <= losses.size();
  for (std::size_t i = 0; same && i < rerun.size(); ++i) same = rerun[i] == losses[i];
  checks.expect("the same seed gives the same losses, to the last bit", same,
                fmt::format("first {} steps trained twice", rerun.size()));
  bool finite = true;
  for (double l : losses) finite = finite && std::isfinite(l);
  for (const std::vector<double>& numbers : others)
    for (double x : numbers) finite = finite && std::isfinite(x);
  checks.expect("every loss is finite", finite);
}

// per token: each layer 3E² (in_proj) + E² (out_proj) + 2LE (scores, weighted sum) + 2EF (FF); the
// head VE. The backward costs about twice the forward (chapter 13); AdamW about 10 per parameter.
double training_step_multiply_adds(const TinyEncoderConfig& c, std::size_t batch) {
  const double E = c.d_model, F = c.d_ff, L = c.seq_len, V = c.vocab;
  const double per_token = c.n_layers * (4.0 * E * E + 2.0 * L * E + 2.0 * E * F) + V * E;
  const double params = c.vocab * E + (c.positions ? L * E : 0.0) +
                        c.n_layers * (4.0 * E * E + 4.0 * E + 2.0 * E * F + F + 5.0 * E) + V * E + V;
  return 3.0 * per_token * batch * L + 10.0 * params;
}

}  // namespace course
