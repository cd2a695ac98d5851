// Chapter 15 — given code (declared in chapters/15_rnn_to_attention/given.hpp): the RNN encoder–decoders
// (a) fixed context, (b) additive attention, (c) dot-product attention, forward, backward and greedy
// decoding, built on chapter 10's rnn_forward and this chapter's additive_attention and rnn_backward.
#include "15_rnn_to_attention/given.hpp"
#include "linalg.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

namespace course {

std::string context_name(ContextKind kind) {
  switch (kind) {
    case ContextKind::fixed:
      return "(a) RNN, one context vector";
    case ContextKind::additive:
      return "(b) RNN + additive attention";
    case ContextKind::dot_product:
      return "(c) RNN + dot-product attention";
  }
  return "?";
}

namespace {

Matrix uniform(std::size_t rows, std::size_t cols, double bound, Rng& rng) {
  return rng.uniform_matrix(rows, cols, -bound, bound);
}

Vector uniform_vector(std::size_t n, double bound, Rng& rng) {
  Vector v = Vector::from_shape({n});
  for (double& x : v) x = rng.uniform(-bound, bound);
  return v;
}

RnnWeights init_rnn(std::size_t H_in, std::size_t H, Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(H));
  RnnWeights w;
  w.weight_ih_l0 = uniform(H, H_in, k, rng);
  w.weight_hh_l0 = uniform(H, H, k, rng);
  w.bias_ih_l0 = uniform_vector(H, k, rng);
  w.bias_hh_l0 = uniform_vector(H, k, rng);
  return w;
}

// Row i of m as a (1, cols) matrix.
Matrix row_of(const Matrix& m, std::size_t i) {
  Matrix r = Matrix::from_shape({1, m.shape(1)});
  for (std::size_t j = 0; j < m.shape(1); ++j) r(0, j) = m(i, j);
  return r;
}

void require_digits(const std::vector<std::size_t>& tokens, std::size_t limit, const char* what) {
  for (std::size_t t : tokens)
    if (t >= limit)
      throw std::invalid_argument(fmt::format("seq2seq: {} holds {}, not below {}", what, t, limit));
}

// One decoder step: c_t from s_{t-1}, then s_t = RNN_dec([embed_out[token]; c_t], s_{t-1}).
struct DecoderStep {
  Matrix input;    // (1, D + H)
  Matrix state;    // (1, H) = s_t
  Matrix weights;  // (1, n): the attention weights (model (a): empty)
};

DecoderStep decoder_step(ContextKind kind, const Seq2SeqWeights& w, const RnnResult& encoder,
                         const Matrix& previous_state, std::size_t token) {
  const std::size_t D = w.embed_out.shape(1), H = w.decoder.weight_hh_l0.shape(0);
  DecoderStep step;
  Matrix context;
  if (kind == ContextKind::fixed) {
    context = encoder.h_n;
  } else if (kind == ContextKind::additive) {
    const AdditiveAttentionResult r =
        additive_attention(previous_state, encoder.output, encoder.output, w.attention);
    context = r.output;
    step.weights = r.weights;
  } else {
    const AttentionResult r = scaled_dot_product_attention(previous_state, encoder.output, encoder.output);
    context = r.output;
    step.weights = r.weights;
  }
  step.input = Matrix::from_shape({1, D + H});
  for (std::size_t j = 0; j < D; ++j) step.input(0, j) = w.embed_out(token, j);
  for (std::size_t j = 0; j < H; ++j) step.input(0, D + j) = context(0, j);
  step.state = rnn_forward(step.input, w.decoder, previous_state).output;
  return step;
}

RnnResult encode(const Seq2SeqWeights& w, const std::vector<std::size_t>& source, Matrix& embedded) {
  if (source.empty()) throw std::invalid_argument("seq2seq: the source is empty");
  require_digits(source, kDigits, "the source");
  const std::size_t D = w.embed_in.shape(1), H = w.encoder.weight_hh_l0.shape(0);
  embedded = Matrix::from_shape({source.size(), D});
  for (std::size_t i = 0; i < source.size(); ++i)
    for (std::size_t j = 0; j < D; ++j) embedded(i, j) = w.embed_in(source[i], j);
  return rnn_forward(embedded, w.encoder, xt::zeros<double>({std::size_t{1}, H}));
}

template <class T>
T zeros_of(const T& t) {
  return T(xt::zeros<double>(t.shape()));
}

RnnWeights zeros_of(const RnnWeights& w) {
  return {zeros_of(w.weight_ih_l0), zeros_of(w.weight_hh_l0), zeros_of(w.bias_ih_l0), zeros_of(w.bias_hh_l0)};
}

void add_rnn(RnnWeights& total, const RnnGradients& g) {
  total.weight_ih_l0 += g.weight_ih_l0;
  total.weight_hh_l0 += g.weight_hh_l0;
  total.bias_ih_l0 += g.bias_ih_l0;
  total.bias_hh_l0 += g.bias_hh_l0;
}

}  // namespace

Seq2SeqWeights init_seq2seq(std::size_t D, std::size_t H, std::size_t A, Rng& rng) {
  const double k = 1.0 / std::sqrt(static_cast<double>(H));
  Seq2SeqWeights w;
  w.embed_in = rng.normal_matrix(kDigits, D);
  w.encoder = init_rnn(D, H, rng);
  w.embed_out = rng.normal_matrix(kDigits + 1, D);
  w.decoder = init_rnn(D + H, H, rng);
  w.W_out = uniform(kDigits, H, k, rng);
  w.b_out = uniform_vector(kDigits, k, rng);
  // last, so that models with and without attention share every other initial weight
  w.attention.W_q = uniform(A, H, k, rng);
  w.attention.W_k = uniform(A, H, k, rng);
  w.attention.w_v = uniform_vector(A, k, rng);
  return w;
}

Seq2SeqWeights zeros_like(const Seq2SeqWeights& w) {
  Seq2SeqWeights z;
  z.embed_in = zeros_of(w.embed_in);
  z.encoder = zeros_of(w.encoder);
  z.embed_out = zeros_of(w.embed_out);
  z.decoder = zeros_of(w.decoder);
  z.attention = {zeros_of(w.attention.W_q), zeros_of(w.attention.W_k), zeros_of(w.attention.w_v)};
  z.W_out = zeros_of(w.W_out);
  z.b_out = zeros_of(w.b_out);
  return z;
}

std::vector<NamedTensor> named_tensors(Seq2SeqWeights& w) {
  std::vector<NamedTensor> spans;
  const auto add = [&](const std::string& name, auto& t) {
    if (t.size() > 0) spans.push_back(named_tensor(name, t));
  };
  add("embed_in", w.embed_in);
  add("encoder.weight_ih_l0", w.encoder.weight_ih_l0);
  add("encoder.weight_hh_l0", w.encoder.weight_hh_l0);
  add("encoder.bias_ih_l0", w.encoder.bias_ih_l0);
  add("encoder.bias_hh_l0", w.encoder.bias_hh_l0);
  add("embed_out", w.embed_out);
  add("decoder.weight_ih_l0", w.decoder.weight_ih_l0);
  add("decoder.weight_hh_l0", w.decoder.weight_hh_l0);
  add("decoder.bias_ih_l0", w.decoder.bias_ih_l0);
  add("decoder.bias_hh_l0", w.decoder.bias_hh_l0);
  add("attention.W_q", w.attention.W_q);
  add("attention.W_k", w.attention.W_k);
  add("attention.w_v", w.attention.w_v);
  add("W_out", w.W_out);
  add("b_out", w.b_out);
  return spans;
}

Seq2SeqForward seq2seq_forward(ContextKind kind, const Seq2SeqWeights& w,
                               const std::vector<std::size_t>& source,
                               const std::vector<std::size_t>& decoder_input) {
  require_digits(decoder_input, kDigits + 1, "the decoder input");
  Seq2SeqForward f;
  f.source = source;
  f.decoder_tokens = decoder_input;
  f.encoder = encode(w, source, f.encoder_input);
  const std::size_t T = decoder_input.size(), n = source.size(), H = f.encoder.h_n.shape(1);
  const std::size_t D = w.embed_out.shape(1);
  f.decoder_input = Matrix::from_shape({T, D + H});
  f.states = Matrix::from_shape({T + 1, H});
  if (kind != ContextKind::fixed) f.attention = Matrix::from_shape({T, n});
  for (std::size_t j = 0; j < H; ++j) f.states(0, j) = f.encoder.h_n(0, j);  // s_0 = h_n
  for (std::size_t t = 0; t < T; ++t) {
    const DecoderStep step = decoder_step(kind, w, f.encoder, row_of(f.states, t), decoder_input[t]);
    for (std::size_t j = 0; j < D + H; ++j) f.decoder_input(t, j) = step.input(0, j);
    for (std::size_t j = 0; j < H; ++j) f.states(t + 1, j) = step.state(0, j);
    if (kind != ContextKind::fixed)
      for (std::size_t j = 0; j < n; ++j) f.attention(t, j) = step.weights(0, j);
  }
  const Matrix states = xt::view(f.states, xt::range(1, T + 1), xt::all());
  f.logits = product_nt(states, w.W_out);
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t v = 0; v < kDigits; ++v) f.logits(t, v) += w.b_out(v);
  return f;
}

// Output layer, then the decoder step by step from the last, then the encoder in one rnn_backward.
Seq2SeqGradients seq2seq_backward(ContextKind kind, const Seq2SeqWeights& w, const Seq2SeqForward& f,
                                  const Matrix& grad_logits) {
  const std::size_t T = f.decoder_tokens.size(), n = f.source.size(), H = f.encoder.h_n.shape(1);
  const std::size_t D = w.embed_out.shape(1);
  if (grad_logits.shape(0) != T || grad_logits.shape(1) != kDigits)
    throw std::invalid_argument(
        fmt::format("seq2seq_backward: grad_logits {} is not ({}, {})", shape_of(grad_logits), T, kDigits));
  Seq2SeqGradients g;
  g.weights = zeros_like(w);
  // 1. logits = s_t W_outᵀ + b_out (chapter 13's linear_backward)
  const Matrix states = xt::view(f.states, xt::range(1, T + 1), xt::all());
  const LinearGradients out = linear_backward(states, w.W_out, grad_logits);
  g.weights.W_out = out.weight;
  g.weights.b_out = out.bias;
  // 2. the decoder, last step first; carry = dL/ds_t through the later steps (recurrence and queries)
  Matrix grad_encoder_states = xt::zeros<double>({n, H});
  Matrix grad_h_n = xt::zeros<double>({std::size_t{1}, H});
  Matrix carry = xt::zeros<double>({std::size_t{1}, H});
  const Matrix no_gradient = xt::zeros<double>({std::size_t{1}, H});
  for (std::size_t t = T; t-- > 0;) {
    const Matrix previous = row_of(f.states, t), state = row_of(f.states, t + 1);
    Matrix grad_state = row_of(out.x, t);
    grad_state += carry;
    const RnnGradients r =
        rnn_backward(row_of(f.decoder_input, t), w.decoder, previous, state, grad_state, no_gradient);
    add_rnn(g.weights.decoder, r);
    carry = r.h0;
    // the input was [embed_out[y_{t-1}]; c_t]
    for (std::size_t j = 0; j < D; ++j) g.weights.embed_out(f.decoder_tokens[t], j) += r.input(0, j);
    Matrix grad_context = Matrix::from_shape({1, H});
    for (std::size_t j = 0; j < H; ++j) grad_context(0, j) = r.input(0, D + j);
    if (kind == ContextKind::fixed) {
      grad_h_n += grad_context;  // c_t = h_n
    } else if (kind == ContextKind::additive) {
      const AdditiveGradients a = additive_attention_backward(
          previous, f.encoder.output, f.encoder.output, w.attention, row_of(f.attention, t), grad_context);
      carry += a.queries;
      grad_encoder_states += a.keys + a.values;
      g.weights.attention.W_q += a.W_q;
      g.weights.attention.W_k += a.W_k;
      g.weights.attention.w_v += a.w_v;
    } else {
      const AttentionGradients a = attention_backward(previous, f.encoder.output, f.encoder.output,
                                                      row_of(f.attention, t), grad_context);
      carry += a.q;
      grad_encoder_states += a.k + a.v;
    }
  }
  grad_h_n += carry;  // s_0 = h_n
  // 3. the encoder: its states' gradients as grad_output, h_n's as grad_h_n
  const RnnGradients e = rnn_backward(f.encoder_input, w.encoder, xt::zeros<double>({std::size_t{1}, H}),
                                      f.encoder.output, grad_encoder_states, grad_h_n);
  add_rnn(g.weights.encoder, e);
  g.encoder_input = e.input;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < g.encoder_input.shape(1); ++j)
      g.weights.embed_in(f.source[i], j) += e.input(i, j);
  return g;
}

Seq2SeqPrediction seq2seq_greedy(ContextKind kind, const Seq2SeqWeights& w,
                                 const std::vector<std::size_t>& source, std::size_t T) {
  Matrix embedded;
  const RnnResult encoder = encode(w, source, embedded);
  Seq2SeqPrediction p;
  if (kind != ContextKind::fixed) p.attention = Matrix::from_shape({T, source.size()});
  Matrix state = encoder.h_n;
  std::size_t token = kBos;
  for (std::size_t t = 0; t < T; ++t) {
    const DecoderStep step = decoder_step(kind, w, encoder, state, token);
    state = step.state;
    if (kind != ContextKind::fixed)
      for (std::size_t j = 0; j < source.size(); ++j) p.attention(t, j) = step.weights(0, j);
    // the digit with the largest logit (a loop: xt::argmax on 1-D is wrong, trap 2)
    std::size_t best = 0;
    double best_logit = -1e300;
    for (std::size_t v = 0; v < kDigits; ++v) {
      double logit = w.b_out(v);
      for (std::size_t j = 0; j < state.shape(1); ++j) logit += w.W_out(v, j) * state(0, j);
      if (logit > best_logit) {
        best_logit = logit;
        best = v;
      }
    }
    p.digits.push_back(best);
    token = best;
  }
  return p;
}

}  // namespace course
