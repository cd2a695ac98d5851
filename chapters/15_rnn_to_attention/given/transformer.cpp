// Chapter 15 — given code (declared in chapters/15_rnn_to_attention/given.hpp): model (d), a transformer
// encoder–decoder built from chapter 14's encoder layer and a decoder layer of chapter 13's pieces.
#include "01_tensors/given.hpp"                 // linear
#include "04_masking/contract.hpp"              // causal_mask
#include "05_multi_head_attention/given.hpp"    // random_multi_head_weights
#include "07_positional_encoding/contract.hpp"  // sinusoidal_encoding
#include "15_rnn_to_attention/given.hpp"
#include "linalg.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace course {

namespace {

// table[ids[i]] + PE(i), row by row:  (n, E)
Matrix embed(const Matrix& table, const std::vector<std::size_t>& ids, std::size_t vocab, const char* what) {
  const std::size_t E = table.shape(1);
  if (ids.empty()) throw std::invalid_argument(fmt::format("transformer_forward: {} is empty", what));
  const Matrix pe = sinusoidal_encoding(ids.size(), E);
  Matrix x({ids.size(), E});
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= vocab)
      throw std::invalid_argument(
          fmt::format("transformer_forward: {} has token {} (not below {})", what, ids[i], vocab));
    for (std::size_t e = 0; e < E; ++e) x(i, e) = table(ids[i], e) + pe(i, e);
  }
  return x;
}

Matrix uniform_matrix(std::size_t rows, std::size_t cols, std::size_t fan_in, Rng& rng) {
  const double a = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return rng.uniform_matrix(rows, cols, -a, a);
}

Vector uniform_vector(std::size_t n, std::size_t fan_in, Rng& rng) {
  const Matrix m = uniform_matrix(1, n, fan_in, rng);
  return Vector(xt::row(m, 0));
}

Vector filled(std::size_t n, double value) {
  return Vector(xt::zeros<double>({n}) + value);
}

void add_attention(std::vector<NamedTensor>& out, const std::string& prefix, MultiHeadWeights& w) {
  out.push_back(named_tensor(prefix + "in_proj_weight", w.in_proj_weight));
  out.push_back(named_tensor(prefix + "in_proj_bias", w.in_proj_bias));
  out.push_back(named_tensor(prefix + "out_proj.weight", w.out_proj_weight));
  out.push_back(named_tensor(prefix + "out_proj.bias", w.out_proj_bias));
}

MultiHeadWeights attention_gradients(const MultiHeadGradients& g) {
  return {g.in_proj_weight, g.in_proj_bias, g.out_proj_weight, g.out_proj_bias};
}

}  // namespace

// x1 = norm1(y + SA(y)), x2 = norm2(x1 + CA(x1, memory)), out = norm3(x2 + FF(x2))
DecoderLayerForward decoder_layer_forward(const Matrix& y, const Matrix& memory, const DecoderLayerWeights& w,
                                          std::size_t n_heads) {
  const std::size_t T = y.shape(0), n = memory.shape(0), E = y.shape(1);
  if (memory.shape(1) != E || w.linear1_weight.shape(1) != E || w.linear2_weight.shape(0) != E ||
      w.norm3_weight.size() != E)
    throw std::invalid_argument(fmt::format(
        "decoder_layer_forward: y {} and memory {} do not fit the weights", shape_of(y), shape_of(memory)));
  DecoderLayerForward f;
  f.self_attention = multi_head_attention_forward(y, y, y, w.self_attn, n_heads, causal_mask(T));
  const Matrix x1 = layer_norm_forward(y + f.self_attention.output, w.norm1_weight, w.norm1_bias, f.norm1);
  f.cross_attention =
      multi_head_attention_forward(x1, memory, memory, w.multihead_attn, n_heads, no_mask(T, n));
  const Matrix x2 = layer_norm_forward(x1 + f.cross_attention.output, w.norm2_weight, w.norm2_bias, f.norm2);
  const Matrix ff = feed_forward_forward(x2, w.linear1_weight, w.linear1_bias, w.linear2_weight,
                                         w.linear2_bias, Activation::relu, f.feed_forward);
  f.output = layer_norm_forward(x2 + ff, w.norm3_weight, w.norm3_bias, f.norm3);
  return f;
}

DecoderLayerGradients decoder_layer_backward(const DecoderLayerForward& f, const DecoderLayerWeights& w,
                                             const Matrix& grad_output) {
  if (grad_output.shape() != f.output.shape())
    throw std::invalid_argument(fmt::format("decoder_layer_backward: grad_output is {}, the output {}",
                                            shape_of(grad_output), shape_of(f.output)));
  DecoderLayerGradients g;
  // out = norm3(x2 + FF(x2))
  const LayerNormGradients n3 = layer_norm_backward(f.norm3, w.norm3_weight, grad_output);
  const FeedForwardGradients ff =
      feed_forward_backward(f.feed_forward, w.linear1_weight, w.linear2_weight, n3.x);
  const Matrix d_x2 = n3.x + ff.x;
  // x2 = norm2(x1 + CA(x1, memory))
  const LayerNormGradients n2 = layer_norm_backward(f.norm2, w.norm2_weight, d_x2);
  const MultiHeadGradients ca =
      multi_head_attention_backward(f.cross_attention.saved, w.multihead_attn, n2.x);
  const Matrix d_x1 = n2.x + ca.query;
  g.memory = ca.key + ca.value;
  // x1 = norm1(y + SA(y))
  const LayerNormGradients n1 = layer_norm_backward(f.norm1, w.norm1_weight, d_x1);
  const MultiHeadGradients sa = multi_head_attention_backward(f.self_attention.saved, w.self_attn, n1.x);
  g.y = n1.x + sa.query + sa.key + sa.value;
  g.weights.self_attn = attention_gradients(sa);
  g.weights.multihead_attn = attention_gradients(ca);
  g.weights.linear1_weight = ff.linear1_weight;
  g.weights.linear1_bias = ff.linear1_bias;
  g.weights.linear2_weight = ff.linear2_weight;
  g.weights.linear2_bias = ff.linear2_bias;
  g.weights.norm1_weight = n1.weight;
  g.weights.norm1_bias = n1.bias;
  g.weights.norm2_weight = n2.weight;
  g.weights.norm2_bias = n2.bias;
  g.weights.norm3_weight = n3.weight;
  g.weights.norm3_bias = n3.bias;
  return g;
}

TransformerWeights init_transformer(std::size_t E, std::size_t F, std::size_t n_heads, Rng& rng) {
  if (E == 0 || F == 0 || n_heads == 0 || E % n_heads != 0)
    throw std::invalid_argument(fmt::format("init_transformer: {} heads do not divide E = {}", n_heads, E));
  TransformerWeights w;
  w.n_heads = n_heads;
  w.embed_in = rng.normal_matrix(kDigits, E);
  w.encoder = random_encoder_layer(rng, E, F, NormInit{1.0, 1.0, 0.0, 0.0});
  w.embed_out = rng.normal_matrix(kDigits + 1, E);
  DecoderLayerWeights& d = w.decoder;
  d.self_attn = random_multi_head_weights(rng, E);
  d.multihead_attn = random_multi_head_weights(rng, E);
  d.linear1_weight = uniform_matrix(F, E, E, rng);
  d.linear1_bias = uniform_vector(F, E, rng);
  d.linear2_weight = uniform_matrix(E, F, F, rng);
  d.linear2_bias = uniform_vector(E, F, rng);
  d.norm1_weight = d.norm2_weight = d.norm3_weight = filled(E, 1.0);
  d.norm1_bias = d.norm2_bias = d.norm3_bias = filled(E, 0.0);
  w.W_out = uniform_matrix(kDigits, E, E, rng);
  w.b_out = uniform_vector(kDigits, E, rng);
  return w;
}

TransformerWeights zeros_like(const TransformerWeights& w) {
  TransformerWeights z = w;
  for (const NamedTensor& t : named_tensors(z))
    for (std::size_t i = 0; i < t.size; ++i) t.data[i] = 0.0;
  return z;
}

std::vector<NamedTensor> named_tensors(TransformerWeights& w) {
  std::vector<NamedTensor> out;
  out.push_back(named_tensor("embed_in", w.embed_in));
  for (const NamedTensor& t : named_tensors(w.encoder, "encoder.")) out.push_back(t);
  out.push_back(named_tensor("embed_out", w.embed_out));
  DecoderLayerWeights& d = w.decoder;
  add_attention(out, "decoder.self_attn.", d.self_attn);
  add_attention(out, "decoder.multihead_attn.", d.multihead_attn);
  add_weight_and_bias(out, "decoder.linear1", d.linear1_weight, d.linear1_bias);
  add_weight_and_bias(out, "decoder.linear2", d.linear2_weight, d.linear2_bias);
  add_weight_and_bias(out, "decoder.norm1", d.norm1_weight, d.norm1_bias);
  add_weight_and_bias(out, "decoder.norm2", d.norm2_weight, d.norm2_bias);
  add_weight_and_bias(out, "decoder.norm3", d.norm3_weight, d.norm3_bias);
  out.push_back(named_tensor("W_out", w.W_out));
  out.push_back(named_tensor("b_out", w.b_out));
  return out;
}

TransformerForward transformer_forward(const TransformerWeights& w, const std::vector<std::size_t>& source,
                                       const std::vector<std::size_t>& decoder_input) {
  TransformerForward f;
  f.source = source;
  f.decoder_tokens = decoder_input;
  f.encoder_input = embed(w.embed_in, source, kDigits, "the source");
  const std::size_t n = source.size();
  f.encoder =
      encoder_layer_forward(f.encoder_input, n, w.encoder, w.n_heads, false, Activation::relu, no_mask(n, n));
  f.decoder_input = embed(w.embed_out, decoder_input, kDigits + 1, "the decoder input");
  f.decoder = decoder_layer_forward(f.decoder_input, f.encoder.output, w.decoder, w.n_heads);
  f.logits = linear(f.decoder.output, w.W_out, w.b_out);
  return f;
}

// logits -> decoder -> its input's embedding; memory -> encoder -> the source's embedding
TransformerGradients transformer_backward(const TransformerWeights& w, const TransformerForward& f,
                                          const Matrix& grad_logits) {
  TransformerGradients g;
  const LinearGradients head = linear_backward(f.decoder.output, w.W_out, grad_logits);
  g.weights.n_heads = w.n_heads;
  g.weights.W_out = head.weight;
  g.weights.b_out = head.bias;
  const DecoderLayerGradients dec = decoder_layer_backward(f.decoder, w.decoder, head.x);
  g.weights.decoder = dec.weights;
  g.weights.embed_out = embedding_backward(f.decoder_tokens, dec.y, kDigits + 1);
  const EncoderLayerGradients enc = encoder_layer_backward(f.encoder.saved, w.encoder, dec.memory);
  g.weights.encoder = enc.weights;
  g.encoder_input = enc.src;
  g.weights.embed_in = embedding_backward(f.source, enc.src, kDigits);
  return g;
}

Seq2SeqPrediction transformer_greedy(const TransformerWeights& w, const std::vector<std::size_t>& source,
                                     std::size_t T) {
  Seq2SeqPrediction p;
  std::vector<std::size_t> fed = {kBos};
  TransformerForward f;
  for (std::size_t t = 0; t < T; ++t) {
    // the whole prefix again each step (the encoder too): simple, and the same numbers as teacher forcing
    f = transformer_forward(w, source, fed);
    std::size_t best = 0;
    for (std::size_t v = 1; v < kDigits; ++v)
      if (f.logits(t, v) > f.logits(t, best)) best = v;
    p.digits.push_back(best);
    if (t + 1 < T) fed.push_back(best);
  }
  const Tensor3& weights = f.decoder.cross_attention.saved.weights;  // (H, T, n)
  p.attention = Matrix(xt::zeros<double>({T, source.size()}));
  for (std::size_t h = 0; h < weights.shape(0); ++h)
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t j = 0; j < source.size(); ++j)
        p.attention(t, j) += weights(h, t, j) / static_cast<double>(weights.shape(0));
  return p;
}

}  // namespace course
