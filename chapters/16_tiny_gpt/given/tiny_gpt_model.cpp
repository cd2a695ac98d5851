// Chapter 16 — given code (declared in chapters/16_tiny_gpt/given.hpp): the TinyGPT, forward and
// backward, its state_dict, a training step and generation.
#include "04_masking/contract.hpp"         // causal_mask
#include "11_transformer_block/given.hpp"  // load_encoder_layer
#include "16_tiny_gpt/given.hpp"
#include "cli.hpp"  // usage_error
#include "linalg.hpp"
#include "npy.hpp"
#include "pytorch.hpp"  // count_numbered_layers

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace course {

// tok ~ N(0, 1), pos ~ N(0, 1), blocks as random_encoder_layer with norms 1 and 0, norm 1 and 0,
// head ±1/√E
TinyGpt random_tiny_gpt(Rng& rng, const TinyGptConfig& c) {
  if (c.vocab == 0 || c.n_ctx == 0 || c.d_model == 0 || c.n_heads == 0 || c.d_model % c.n_heads != 0 ||
      c.d_ff == 0 || c.n_layers == 0) {
    throw std::invalid_argument("random_tiny_gpt: sizes must be positive and n_heads must divide d_model");
  }
  TinyGpt m;
  m.config = c;
  m.tok = rng.normal_matrix(c.vocab, c.d_model);
  m.pos = c.positions ? rng.normal_matrix(c.n_ctx, c.d_model) : Matrix(Matrix::from_shape({0, c.d_model}));
  for (std::size_t l = 0; l < c.n_layers; ++l)
    m.blocks.push_back(random_encoder_layer(rng, c.d_model, c.d_ff, NormInit{1.0, 1.0, 0.0, 0.0}));
  m.norm_weight = xt::ones<double>({c.d_model});
  m.norm_bias = xt::zeros<double>({c.d_model});
  const double a = 1.0 / std::sqrt(static_cast<double>(c.d_model));
  m.head_weight = rng.uniform_matrix(c.vocab, c.d_model, -a, a);
  return m;
}

std::vector<NamedTensor> named_tensors(TinyGpt& m) {
  std::vector<NamedTensor> t;
  t.push_back(named_tensor("tok.weight", m.tok));
  if (m.config.positions) t.push_back(named_tensor("pos.weight", m.pos));
  for (std::size_t l = 0; l < m.blocks.size(); ++l) {
    for (NamedTensor& n : named_tensors(m.blocks[l], fmt::format("blocks.{}.", l))) t.push_back(std::move(n));
  }
  add_weight_and_bias(t, "norm", m.norm_weight, m.norm_bias);
  t.push_back(named_tensor("head.weight", m.head_weight));
  return t;
}

std::vector<std::size_t> load_token_ids(const std::string& dir, const std::string& name, std::size_t vocab) {
  const Int64Vector v = load_int64_vector(dir, name, "(T,)");
  std::vector<std::size_t> ids;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v(i) < 0 || v(i) >= static_cast<std::int64_t>(vocab)) {
      throw usage_error(
          fmt::format("{}.npy: entry {} is {}, not a token id in [0, {})", name, i, v(i), vocab));
    }
    ids.push_back(static_cast<std::size_t>(v(i)));
  }
  return ids;
}

TinyGpt load_tiny_gpt(const std::string& dir, std::size_t n_heads) {
  TinyGpt m;
  m.tok = load_matrix(dir, "tok.weight", "(V, E)");
  const std::size_t V = m.tok.shape(0), E = m.tok.shape(1);
  if (V == 0 || E == 0) throw usage_error(fmt::format("{}/tok.weight.npy is empty", dir));
  m.pos = load_matrix(dir, "pos.weight", "(n_ctx, E)");
  require_shape("pos.weight.npy", m.pos, {m.pos.shape(0), E}, "(n_ctx, E) with the E of tok.weight");
  if (m.pos.shape(0) == 0) throw usage_error(fmt::format("{}/pos.weight.npy has no rows", dir));
  const std::size_t n_layers = count_numbered_layers(dir, "blocks.");
  for (std::size_t l = 0; l < n_layers; ++l) {
    const std::string prefix = fmt::format("blocks.{}.", l);
    m.blocks.push_back(load_encoder_layer(dir, prefix));
    require_shape(prefix + "self_attn.in_proj_weight.npy", m.blocks.back().self_attn.in_proj_weight,
                  {3 * E, E}, "(3E, E) with the E of tok.weight");
  }
  if (m.blocks.empty()) throw usage_error(fmt::format("{}: no blocks.0.self_attn.in_proj_weight.npy", dir));
  m.norm_weight = load_vector(dir, "norm.weight", "(E,)");
  require_shape("norm.weight.npy", m.norm_weight, {E}, "(E,)");
  m.norm_bias = load_vector(dir, "norm.bias", "(E,)");
  require_shape("norm.bias.npy", m.norm_bias, {E}, "(E,)");
  m.head_weight = load_matrix(dir, "head.weight", "(V, E)");
  require_shape("head.weight.npy", m.head_weight, {V, E}, "(V, E) with the V and E of tok.weight");
  if (n_heads == 0 || E % n_heads != 0) {
    throw usage_error(fmt::format("--heads {} does not divide d_model = {} of tok.weight.npy", n_heads, E));
  }
  const std::size_t F = m.blocks[0].linear1_weight.shape(0);
  for (std::size_t l = 0; l < m.blocks.size(); ++l) {
    if (m.blocks[l].linear1_weight.shape(0) != F) {
      throw usage_error(fmt::format("blocks.{}.linear1.weight.npy has {} rows but blocks.0 has {}", l,
                                    m.blocks[l].linear1_weight.shape(0), F));
    }
  }
  m.config = {V, m.pos.shape(0), E, n_heads, F, m.blocks.size(), true};
  return m;
}

namespace {
// x = tok[ids] + pos[t];  blocks (pre-norm, GELU, causal);  normed = norm(x): all but the head
void forward_to_head(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t T,
                     TinyGptForward& f) {
  const TinyGptConfig& c = model.config;
  const std::size_t E = c.d_model, n = ids.size();
  if (T == 0 || T > c.n_ctx) {
    throw std::invalid_argument(
        fmt::format("tiny_gpt_forward: sequences of {} do not fit the context of {}", T, c.n_ctx));
  }
  if (n == 0 || n % T != 0) {
    throw std::invalid_argument(
        fmt::format("tiny_gpt_forward: {} ids are not a whole number of sequences of {}", n, T));
  }
  f.ids = ids;
  f.seq_len = T;
  // 1. token embedding, plus the position table's row t for the t-th token of every sequence
  Matrix x = Matrix::from_shape({n, E});
  for (std::size_t i = 0; i < n; ++i) {
    if (ids[i] >= c.vocab) {
      throw std::invalid_argument(
          fmt::format("tiny_gpt_forward: id {} is {}, not below {}", i, ids[i], c.vocab));
    }
    for (std::size_t j = 0; j < E; ++j)
      x(i, j) = model.tok(ids[i], j) + (c.positions ? model.pos(i % T, j) : 0.0);
  }
  // 2. the blocks: pre-norm encoder layers with exact GELU, each position sees itself and the past
  const BoolMatrix causal = causal_mask(T);
  for (const EncoderLayerWeights& w : model.blocks) {
    f.blocks.push_back(
        encoder_layer_forward(x, T, w, c.n_heads, /*norm_first=*/true, Activation::gelu, causal));
    x = f.blocks.back().output;
  }
  // 3. the final norm
  f.normed = layer_norm_forward(x, model.norm_weight, model.norm_bias, f.norm);
}
}  // namespace

// x = tok[ids] + pos[t];  blocks (pre-norm, GELU, causal);  logits = norm(x) headᵀ
TinyGptForward tiny_gpt_forward(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t T) {
  TinyGptForward f;
  forward_to_head(model, ids, T, f);
  // the head (no bias), the same linear map at every position
  f.logits = product_nt(f.normed, model.head_weight);
  return f;
}

// head, final norm, blocks from the last, then positions and embedding
TinyGpt tiny_gpt_backward(const TinyGpt& model, const TinyGptForward& forward, const Matrix& grad_logits) {
  const TinyGptConfig& c = model.config;
  const std::size_t E = c.d_model, n = forward.ids.size(), T = forward.seq_len;
  if (grad_logits.shape(0) != n || grad_logits.shape(1) != c.vocab) {
    throw std::invalid_argument(
        fmt::format("tiny_gpt_backward: grad_logits is {} but the logits are ({}, {})", shape_of(grad_logits),
                    n, c.vocab));
  }
  TinyGpt g;
  g.config = c;
  // 3. the head: logits = normed headᵀ, so d head = d logitsᵀ normed, d normed = d logits head
  g.head_weight = product_tn(grad_logits, forward.normed);
  const Matrix d_normed = product(grad_logits, model.head_weight);
  // the final norm (chapter 14's layer_norm_backward)
  LayerNormGradients norm = layer_norm_backward(forward.norm, model.norm_weight, d_normed);
  g.norm_weight = std::move(norm.weight);
  g.norm_bias = std::move(norm.bias);
  // 2. the blocks, last first
  Matrix dx = std::move(norm.x);
  g.blocks.resize(model.blocks.size());
  for (std::size_t l = model.blocks.size(); l-- > 0;) {
    EncoderLayerGradients lg = encoder_layer_backward(forward.blocks[l].saved, model.blocks[l], dx);
    g.blocks[l] = std::move(lg.weights);
    dx = std::move(lg.src);
  }
  // 1. the position table gets every sequence's row t; the embedding its tokens' rows
  g.pos = xt::zeros<double>({c.positions ? c.n_ctx : 0, E});
  if (c.positions) {
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < E; ++j) g.pos(i % T, j) += dx(i, j);
  }
  g.tok = embedding_backward(forward.ids, dx, c.vocab);
  return g;
}

// forward, loss (chapter 14), dL/d logits (the exercise), backward
TinyGptLossAndGradients tiny_gpt_loss_and_gradients(const TinyGpt& model, const std::vector<std::size_t>& ids,
                                                    const std::vector<std::size_t>& targets, std::size_t T) {
  TinyGptLossAndGradients r;
  r.forward = tiny_gpt_forward(model, ids, T);
  r.loss = cross_entropy_loss(r.forward.logits, targets);
  const Matrix grad_logits = cross_entropy_backward(r.forward.logits, targets);
  r.grads = tiny_gpt_backward(model, r.forward, grad_logits);
  return r;
}

double train_step(TinyGpt& model, AdamW& optimizer, const Batch& batch, std::size_t T) {
  TinyGptLossAndGradients r = tiny_gpt_loss_and_gradients(model, batch.inputs, batch.targets, T);
  optimizer.step(named_tensors(model), named_tensors(r.grads));
  return r.loss;
}

// lr · warm-up · cosine decay
double learning_rate(const TrainingOptions& o, std::size_t t) {
  if (t < o.warmup) return o.lr * static_cast<double>(t + 1) / static_cast<double>(o.warmup);
  if (!o.cosine || o.steps <= o.warmup) return o.lr;
  const double pi = std::acos(-1.0);
  const double p = static_cast<double>(t - o.warmup) / static_cast<double>(o.steps - o.warmup);
  return o.lr * (0.1 + 0.9 * 0.5 * (1.0 + std::cos(pi * p)));
}

void tie_weights(TinyGpt& m) {
  const double s = 1.0 / std::sqrt(static_cast<double>(m.config.d_model));
  m.tok *= s;
  m.pos *= s;
  m.head_weight = m.tok;
}

namespace {
// minGPT's groups: biases, norms' weights and the embeddings are not decayed
bool decayed(const std::string& name) {
  const bool bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
  const bool norm = name.find("norm") != std::string::npos;
  return !(bias || norm || name == "tok.weight" || name == "pos.weight");
}
}  // namespace

ScheduledAdamW::ScheduledAdamW(const TrainingOptions& options, Decays decays)
    : options_(options), decays_(std::move(decays)) {}

// 1. clipping: the global norm of every gradient entry; 2. AdamW, tensor by tensor, at lr_t
void ScheduledAdamW::step(const std::vector<NamedTensor>& params, const std::vector<NamedTensor>& grads) {
  if (params.size() != grads.size()) throw std::invalid_argument("ScheduledAdamW: params and grads differ");
  if (options_.clip > 0.0) clip_global_norm(grads, options_.clip);
  if (moments_.empty())
    for (const NamedTensor& p : params)
      moments_.push_back({std::vector<double>(p.size, 0.0), std::vector<double>(p.size, 0.0)});
  const AdamWOptions adamw{learning_rate(options_, t_), 0.9, 0.999, 1e-8, options_.weight_decay};
  ++t_;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].size != grads[i].size)
      throw std::invalid_argument("ScheduledAdamW: a gradient's size differs");
    AdamWOptions o = adamw;
    if (!options_.decay_all && !decays_(params[i])) o.weight_decay = 0.0;
    adamw_step(params[i].data, grads[i].data, params[i].size, moments_[i], t_, o);
  }
}

Trainer::Trainer(const TrainingOptions& options, LossAndGradientsOf loss_and_gradients)
    : options_(options),
      loss_and_gradients_(loss_and_gradients),
      optimizer_(options, [](const NamedTensor& t) { return decayed(t.name); }) {}

void clip_global_norm(const std::vector<NamedTensor>& grads, double clip) {
  double squares = 0.0;
  for (const NamedTensor& g : grads)
    for (std::size_t i = 0; i < g.size; ++i) squares += g.data[i] * g.data[i];
  const double norm = std::sqrt(squares);
  if (norm > clip) {
    const double scale = clip / (norm + 1e-6);
    for (const NamedTensor& g : grads)
      for (std::size_t i = 0; i < g.size; ++i) g.data[i] *= scale;
  }
}

// loss and gradients; tied: tok's gradient += head's; the optimizer's step (clip, AdamW at lr_t)
double Trainer::step(TinyGpt& model, const Batch& batch, std::size_t T) {
  TinyGptLossAndGradients r = loss_and_gradients_(model, batch.inputs, batch.targets, T);
  if (options_.tie) r.grads.tok += r.grads.head_weight;
  std::vector<NamedTensor> params = named_tensors(model), grads = named_tensors(r.grads);
  if (options_.tie) {  // head.weight is the last tensor: tok.weight stands for both
    params.pop_back();
    grads.pop_back();
  }
  optimizer_.step(params, grads);
  if (options_.tie) model.head_weight = model.tok;
  return r.loss;
}

// pieces of T + 1 ids: input the first T, targets the last T; the mean over every target
std::vector<std::size_t> line_starts(const std::vector<std::size_t>& text, std::size_t newline) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool after_break = i == 0 || text[i - 1] == newline;
    if (after_break && text[i] != newline) starts.push_back(i);
  }
  return starts;
}

Window training_window(Rng& rng, const std::vector<std::size_t>& starts, std::size_t text_size,
                       std::size_t T) {
  // the line starts are sorted: those with room for T + 1 ids come first
  std::size_t usable = 0;
  while (usable < starts.size() && starts[usable] + T + 1 <= text_size) ++usable;
  if (usable == 0)
    throw std::invalid_argument(fmt::format("training_window: no line start has {} ids after it", T + 1));
  return {starts[rng.below(usable)], T + 1};
}

Batch training_batch(Rng& rng, const std::vector<std::size_t>& text, const std::vector<std::size_t>& starts,
                     std::size_t B, std::size_t T) {
  Batch b;
  for (std::size_t s = 0; s < B; ++s) {
    const Window w = training_window(rng, starts, text.size(), T);
    for (std::size_t t = 0; t < T; ++t) {
      b.inputs.push_back(text[w.start + t]);
      b.targets.push_back(text[w.start + t + 1]);
    }
  }
  return b;
}

// a batch drawn, a step taken, `steps` times
std::vector<double> train_steps(TinyGpt& model, Trainer& trainer, Rng& rng,
                                const std::vector<std::size_t>& text, const std::vector<std::size_t>& starts,
                                std::size_t B, std::size_t T, std::size_t steps) {
  std::vector<double> losses;
  for (std::size_t step = 0; step < steps; ++step)
    losses.push_back(trainer.step(model, training_batch(rng, text, starts, B, T), T));
  return losses;
}

std::vector<Window> evaluation_windows(const std::vector<std::size_t>& text, std::size_t newline,
                                       std::size_t T) {
  const std::vector<std::size_t> starts = line_starts(text, newline);
  std::vector<Window> windows;
  if (text.size() < 2 || T == 0) return windows;
  std::size_t s = 0, next = 0;  // s: this window's start; starts[next]: the first line start after s
  while (s + 1 < text.size()) {
    while (next < starts.size() && starts[next] <= s) ++next;
    // 1. the last line start within T of s, if any; else cut at s + T (or the text's end)
    std::size_t end = std::min(s + T, text.size() - 1);
    if (end < text.size() - 1) {
      std::size_t k = next;
      while (k < starts.size() && starts[k] <= s + T) ++k;
      if (k > next) end = starts[k - 1];
    }
    // 2. the window holds s … end: it predicts s + 1 … end
    windows.push_back({s, end - s + 1});
    s = end;
  }
  return windows;
}

TextLoss mean_loss(const TinyGpt& model, const std::vector<std::size_t>& text,
                   const std::vector<Window>& windows) {
  TextLoss r;
  for (const Window& w : windows) {
    if (w.length < 2 || w.start + w.length > text.size() || w.length - 1 > model.config.n_ctx)
      throw std::invalid_argument(
          fmt::format("mean_loss: a window ({}, {}) does not fit", w.start, w.length));
    std::vector<std::size_t> inputs, targets;
    for (std::size_t t = 0; t + 1 < w.length; ++t) {
      inputs.push_back(text[w.start + t]);
      targets.push_back(text[w.start + t + 1]);
      r.predicted_positions.push_back(w.start + t + 1);
    }
    const TinyGptForward f = tiny_gpt_forward(model, inputs, inputs.size());
    // each row's loss on its own: chapter 14's cross_entropy_loss of one row
    for (std::size_t t = 0; t < targets.size(); ++t) {
      const Matrix row = xt::view(f.logits, xt::range(t, t + 1), xt::all());
      r.position_losses.push_back(cross_entropy_loss(row, {targets[t]}));
    }
  }
  if (r.predicted_positions.empty()) throw std::invalid_argument("mean_loss: no window");
  r.loss = mean_of(r.position_losses);
  return r;
}

// the last n_ctx tokens in, the last row's logits to sample_next, append, again
std::vector<std::size_t> generate(const TinyGpt& model, const std::vector<std::size_t>& prompt,
                                  std::size_t n_new, const SamplingOptions& options, Rng& rng) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt is empty");
  std::vector<std::size_t> out = prompt;
  for (std::size_t k = 0; k < n_new; ++k) {
    const std::size_t T = std::min(out.size(), model.config.n_ctx);
    const std::vector<std::size_t> context(out.end() - static_cast<std::ptrdiff_t>(T), out.end());
    // the head on the last position only: the others' logits are not needed
    TinyGptForward f;
    forward_to_head(model, context, T, f);
    const Matrix last_hidden = xt::view(f.normed, xt::range(T - 1, T), xt::all());
    const Matrix logits = product_nt(last_hidden, model.head_weight);  // (1, V)
    out.push_back(sample_next(xt::view(logits, 0, xt::all()), options, rng));
  }
  return out;
}

double training_step_multiply_adds(const TinyGptConfig& c, std::size_t batch, std::size_t T) {
  const double E = c.d_model, F = c.d_ff, V = c.vocab, L = static_cast<double>(T);
  const double per_token = c.n_layers * (4.0 * E * E + 2.0 * L * E + 2.0 * E * F) + V * E;
  const double params = V * E + (c.positions ? c.n_ctx * E : 0.0) +
                        c.n_layers * (4.0 * E * E + 4.0 * E + 2.0 * E * F + F + 5.0 * E) + 2.0 * E + V * E;
  return 3.0 * per_token * static_cast<double>(batch) * L + 10.0 * params;
}

double training_memory_bytes(const TinyGptConfig& c, double rows) {
  return 8.0 * rows * (40.0 * c.d_ff * c.n_layers + 3.0 * c.vocab);
}

}  // namespace course
