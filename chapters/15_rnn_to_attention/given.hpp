// Chapter 15 — given code (not an exercise), defined in chapters/15_rnn_to_attention/given/ and compiled with both
// the reference and your exercise, so the encoder–decoders below run on whichever additive_attention and
// rnn_backward they are linked with: yours in ./course check 15, the reference in the program.
#pragma once
#include "02_dot_product_attention/contract.hpp"  // scaled_dot_product_attention
#include "13_backpropagation/given.hpp"  // attention_backward, softmax_backward, sum_of_products, gradcheck
#include "14_training/given.hpp"         // AdamW, NamedTensor, softmax_cross_entropy, encoder_layer_forward
#include "15_rnn_to_attention/contract.hpp"
#include "rng.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace course {

// ---- additive attention's backward -------------------------------------------------------------------

// The gradients of additive_attention's three inputs and three parameters.
struct AdditiveGradients {
  Matrix queries, keys, values;  // (L, Dq), (S, Dk), (S, Dv)
  Matrix W_q, W_k;               // (A, Dq), (A, Dk)
  Vector w_v;                    // (A)
};

// additive_attention_backward — given dL/d(output) (L, Dv) and the forward's weights P (L, S):
//   dvalues = Pᵀ dO,   dP = dO valuesᵀ,   dE = softmax_backward(P, dP)          (chapter 13)
//   with z_ij = W_q q_i + W_k k_j (A) and t_ij = tanh(z_ij), e_ij = w_vᵀ t_ij:
//   dw_v = Σ_ij dE_ij t_ij,   dz_ij = dE_ij w_v ⊙ (1 − t_ij²)
//   dq_i' = Σ_j dz_ij (the projected query's gradient),  dk_j' = Σ_i dz_ij
//   dqueries = dQ' W_q,  dW_q = dQ'ᵀ queries,   dkeys = dK' W_k,  dW_k = dK'ᵀ keys
// It recomputes t_ij (L·S·A numbers) rather than keeping them. Throws std::invalid_argument when the
// shapes do not fit.
AdditiveGradients additive_attention_backward(const Matrix& queries, const Matrix& keys, const Matrix& values,
                                              const AdditiveWeights& w, const Matrix& weights,
                                              const Matrix& grad_output);

// ---- attention pooling: Nadaraya (1964), Watson (1964) --------------------------------------------------

struct KernelRegression {
  Vector estimate;  // (n): f(x) at each query point
  Matrix weights;   // (n, m): how much each training point counts for each query; rows sum to 1
};

// nadaraya_watson — kernel regression with a Gaussian kernel of bandwidth h, as attention with no
// learned weight: the query is x, the keys are the training inputs x_j, the values their targets y_j:
//   score(x, x_j) = −(x − x_j)² / (2h²),   α(x, x_j) = softmax over j of the scores,
//   f(x) = Σ_j α(x, x_j) y_j
//   x_query (n), x_train (m), y_train (m), h > 0  ->  estimate (n), weights (n, m)
// Throws std::invalid_argument when x_train and y_train differ in length or h is not positive.
KernelRegression nadaraya_watson(const Vector& x_query, const Vector& x_train, const Vector& y_train,
                                 double bandwidth);

// ---- encoder–decoders on digit strings ----------------------------------------------------------------

// The vocabulary: the digits 0..9; the decoder's first input is <bos> = 10.
constexpr std::size_t kDigits = 10;
constexpr std::size_t kBos = 10;

// How the decoder gets its context c_t (the three RNN models of the chapter; the fourth is a transformer).
enum class ContextKind {
  fixed,     // (a) c_t = h_n, the encoder's last state, at every step (Cho et al. 2014)
  additive,  // (b) c_t = additive_attention(s_{t-1}, encoder states)          (Bahdanau et al. 2015)
  dot_product,  // (c) c_t = scaled_dot_product_attention(s_{t-1}, encoder states): Bahdanau's wiring, a dot score
};
std::string context_name(ContextKind kind);

// Every parameter of an encoder–decoder; also used for their gradients (same names, same shapes).
//   D embedding width, H hidden size (encoder and decoder), A additive attention's width
struct Seq2SeqWeights {
  Matrix embed_in;            // (10, D): the encoder's embedding of each digit
  RnnWeights encoder;         // torch.nn.RNN(D, H)
  Matrix embed_out;           // (11, D): the decoder's embedding of each digit and <bos>
  RnnWeights decoder;         // torch.nn.RNN(D + H, H): its input is [embedding; context]
  AdditiveWeights attention;  // (A, H), (A, H), (A): only in model (b); empty (A = 0) otherwise
  Matrix W_out;               // (10, H): logits = s_t W_outᵀ + b_out
  Vector b_out;               // (10)
};

// Random weights: embeddings N(0, 1) as torch.nn.Embedding; every other matrix and vector uniform in
// [−1/√H, 1/√H] as torch.nn.RNN and torch.nn.Linear(H, ·) draw theirs (W_out's bound is 1/√H too).
// Drawn in the order embed_in, encoder, embed_out, decoder, W_out, b_out, then the attention's: the same
// seed gives models with and without attention the same embeddings, RNNs and output layer. A = 0 gives no attention parameters.
Seq2SeqWeights init_seq2seq(std::size_t D, std::size_t H, std::size_t A, Rng& rng);

// Zeros of the same shapes (for gradients).
Seq2SeqWeights zeros_like(const Seq2SeqWeights& w);

// Every parameter as one flat array with a name (chapter 14's NamedTensor: for its AdamW, the gradient
// check and the parameter count). The pointers stay valid while w lives and is not resized.
std::vector<NamedTensor> named_tensors(Seq2SeqWeights& w);

// What one example's forward pass keeps for the backward.
struct Seq2SeqForward {
  std::vector<std::size_t> source, decoder_tokens;  // (n) digits; (T) <bos>, y_1, ..., y_{T-1}
  Matrix encoder_input;                             // (n, D): the source's embeddings
  RnnResult encoder;                                // output (n, H) = h_1..h_n, h_n (1, H)
  Matrix decoder_input;                             // (T, D + H): [embedding of the previous token; c_t]
  Matrix states;                                    // (T + 1, H): s_0 = h_n, then s_1 .. s_T
  Matrix attention;                                 // (T, n): the weights of each step (model (a): empty)
  Matrix logits;                                    // (T, 10)
};

// seq2seq_forward — the encoder reads the source, then the decoder runs T steps with teacher forcing:
//   h_1..h_n = RNN_enc(embed_in[source])              (chapter 10's rnn_forward)
//   s_0 = h_n;  for t = 1..T:
//     c_t = context(s_{t-1}, h_1..h_n)                  (ContextKind above)
//     s_t = RNN_dec step([embed_out[y_{t-1}]; c_t], s_{t-1})     (y_0 = <bos>)
//     logits_t = s_t W_outᵀ + b_out
// Bahdanau's arrangement: the context is computed from the previous state and enters the RNN with the
// input. Throws std::invalid_argument for a digit out of range or an empty source.
Seq2SeqForward seq2seq_forward(ContextKind kind, const Seq2SeqWeights& w,
                               const std::vector<std::size_t>& source,
                               const std::vector<std::size_t>& decoder_input);

struct Seq2SeqGradients {
  Seq2SeqWeights weights;  // dL/d every parameter
  Matrix encoder_input;    // (n, D): dL/d the source's embeddings (how much reaches each input)
};

// seq2seq_backward — the forward's steps undone in reverse order, given dL/d logits (T, 10):
//   output layer (chapter 13's linear_backward) -> dL/ds_t;
//   the decoder, one step at a time from t = T: rnn_backward on that step (L = 1; the next step's input
//   depends on s_t through c_{t+1}, so the whole decoder is not one rnn_backward call), its input's
//   gradient split into the embedding's and the context's; the context's backward (additive_attention_
//   backward, chapter 13's attention_backward, or straight to h_n) sends gradient to s_{t-1} and to
//   the encoder's states;
//   the encoder: one rnn_backward over the whole source, with the states' gradients as grad_output and
//   the gradient of h_n (= s_0) as grad_h_n.
Seq2SeqGradients seq2seq_backward(ContextKind kind, const Seq2SeqWeights& w, const Seq2SeqForward& f,
                                  const Matrix& grad_logits);

// Greedy decoding: T steps, each feeding back the digit with the largest logit (the first on ties).
struct Seq2SeqPrediction {
  std::vector<std::size_t> digits;  // (T)
  Matrix attention;                 // (T, n): model (a): empty
};
Seq2SeqPrediction seq2seq_greedy(ContextKind kind, const Seq2SeqWeights& w,
                                 const std::vector<std::size_t>& source, std::size_t T);

// ---- (d) a transformer encoder–decoder (Vaswani et al. 2017, one layer each side) ------------------------

// torch.nn.TransformerDecoderLayer(E, H, F, dropout=0)'s parameters, named after its state_dict.
struct DecoderLayerWeights {
  MultiHeadWeights self_attn;       // causal self-attention over the decoder's own inputs
  MultiHeadWeights multihead_attn;  // cross-attention: queries from the decoder, keys and values the memory
  Matrix linear1_weight;            // (F, E)
  Vector linear1_bias;              // (F)
  Matrix linear2_weight;            // (E, F)
  Vector linear2_bias;              // (E)
  Vector norm1_weight, norm1_bias, norm2_weight, norm2_bias, norm3_weight, norm3_bias;  // (E)
};

// What the decoder layer's backward needs from its forward.
struct DecoderLayerForward {
  Matrix output;                    // (T, E)
  MultiHeadForward self_attention;  // chapter 13's activations of the causal self-attention
  MultiHeadForward
      cross_attention;  // ... and of the cross-attention; its weights (H, T, n) are the alignment
  LayerNormActivations norm1, norm2, norm3;  // what each norm normalised, and its rows' μ and rstd
  FeedForwardActivations feed_forward;       // (T, E) -> (T, F) -> (T, E), ReLU
};

// decoder_layer_forward — post-norm, as PyTorch's default (and chapter 14's encoder layer):
//   x1 = norm1(y + SA(y, causal mask))          chapter 04's mask: step t sees only steps ≤ t
//   x2 = norm2(x1 + CA(x1, memory))             chapter 06's cross-attention: queries x1 (T, E),
//                                               keys and values the encoder's output memory (n, E)
//   out = norm3(x2 + linear2(relu(linear1(x2))))
// y (T, E), memory (n, E)  ->  out (T, E). Throws std::invalid_argument when a shape does not fit.
DecoderLayerForward decoder_layer_forward(const Matrix& y, const Matrix& memory, const DecoderLayerWeights& w,
                                          std::size_t n_heads);

struct DecoderLayerGradients {
  Matrix y, memory;             // (T, E), (n, E)
  DecoderLayerWeights weights;  // every parameter's gradient
};

// decoder_layer_backward — the forward's steps in reverse, given dL/d(out) (T, E): layer_norm_backward
// (chapter 14) through each norm, the residuals sending their gradient both ways, linear_backward through
// the feed-forward, chapter 13's multi_head_attention_backward through both attentions (the memory's
// gradient is the cross-attention's key + value gradients; y's is the self-attention's query + key +
// value gradients plus the residual's).
DecoderLayerGradients decoder_layer_backward(const DecoderLayerForward& f, const DecoderLayerWeights& w,
                                             const Matrix& grad_output);

// Model (d): embeddings plus chapter 07's sinusoidal positions, one chapter 14 encoder layer (post-norm,
// ReLU, no mask), one decoder layer above, and the output layer.
//   E = d_model, F = the feed-forward's width, n_heads heads
struct TransformerWeights {
  std::size_t n_heads = 1;
  Matrix embed_in;              // (10, E)
  EncoderLayerWeights encoder;  // chapter 11's keys, prefixed "encoder."
  Matrix embed_out;             // (11, E): the digits and <bos>
  DecoderLayerWeights decoder;  // prefixed "decoder."
  Matrix W_out;                 // (10, E)
  Vector b_out;                 // (10)
};

// Random weights as PyTorch draws them: embeddings N(0, 1); the encoder layer random_encoder_layer with
// norms at 1 and 0; the decoder's two attentions random_multi_head_weights, its linears uniform in
// ±1/√fan_in, norms 1 and 0; W_out and b_out uniform in ±1/√E. Throws when n_heads does not divide E.
TransformerWeights init_transformer(std::size_t E, std::size_t F, std::size_t n_heads, Rng& rng);
TransformerWeights zeros_like(const TransformerWeights& w);
std::vector<NamedTensor> named_tensors(TransformerWeights& w);

struct TransformerForward {
  std::vector<std::size_t> source, decoder_tokens;
  Matrix encoder_input;         // (n, E): embed_in[source] + PE(n)
  EncoderLayerForward encoder;  // memory = encoder.output (n, E)
  Matrix decoder_input;         // (T, E): embed_out[tokens] + PE(T)
  DecoderLayerForward decoder;
  Matrix logits;  // (T, 10)
};

// transformer_forward — with teacher forcing: the decoder reads <bos>, y_1, ..., y_{T-1} all at once,
// the causal mask keeping each step from the ones after it:
//   memory = encoder_layer(embed_in[source] + PE);  out = decoder_layer(embed_out[fed] + PE, memory)
//   logits = out W_outᵀ + b_out
TransformerForward transformer_forward(const TransformerWeights& w, const std::vector<std::size_t>& source,
                                       const std::vector<std::size_t>& decoder_input);

struct TransformerGradients {
  TransformerWeights weights;  // dL/d every parameter
  Matrix encoder_input;        // (n, E): dL/d the source's embeddings plus positions
};
TransformerGradients transformer_backward(const TransformerWeights& w, const TransformerForward& f,
                                          const Matrix& grad_logits);

// Greedy decoding: T steps, step t running the decoder on <bos> and the t − 1 digits chosen so far (the
// encoder once). attention: the last run's cross-attention weights, averaged over the heads (T, n).
Seq2SeqPrediction transformer_greedy(const TransformerWeights& w, const std::vector<std::size_t>& source,
                                     std::size_t T);
}  // namespace course

namespace course {

// ---- training the four models on digit reversal -----------------------------------------------------------

// One training example of the task: a digit string and its reverse.
struct ReversalExample {
  std::vector<std::size_t> source;  // (n) digits
  std::vector<std::size_t> target;  // (n) the same digits, last first
  std::vector<std::size_t> fed;     // (n) <bos>, target[0], ..., target[n-2]: the decoder's inputs
};
// A string of n digits drawn uniformly with rng, and its reverse.
ReversalExample reversal_example(std::size_t n, Rng& rng);

// The held-out strings of length n: `count` distinct strings drawn with rng, but at most half of the
// 10^n there are, so that training keeps the other half (n = 1: 5 of the 10 digits; n = 2: 50 of 100).
std::vector<ReversalExample> held_out_strings(std::size_t n, std::size_t count, Rng& rng);

// One training batch: `batch` strings, each of a length drawn uniformly from 1..n_max, then its digits;
// a string in `excluded` is drawn again (same length), so no batch ever holds one.
using DigitSet = std::set<std::vector<std::size_t>>;
std::vector<ReversalExample> training_batch(std::size_t n_max, std::size_t batch, const DigitSet& excluded,
                                            Rng& rng);

// Scales every gradient by max_norm / ‖g‖ when the norm of all of them together exceeds max_norm
// (Pascanu, Mikolov and Bengio 2013, algorithm 1). Returns ‖g‖ before clipping.
double clip_gradient_norm(const std::vector<NamedTensor>& grads, double max_norm);

// What the training loop runs; the same for all four models.
struct TrainConfig {
  std::size_t D = 8, H = 16, A = 16;     // embedding width, hidden size, additive attention's width
  std::size_t E = 8, F = 16, heads = 2;  // model (d): d_model, the feed-forward's width, attention heads
  std::size_t n_max = 5;                 // train on lengths 1..n_max, uniformly
  std::size_t steps = 100, batch = 16;
  double lr = 1e-2, clip = 1.0;
  std::uint64_t seed = 42;
  std::size_t probe_every = 10;  // every this many steps, measure the gradient reaching x_1
  DigitSet held_out;             // source strings never trained on (the test strings)
};

// One RNN model's run.
struct TrainedModel {
  ContextKind kind = ContextKind::fixed;
  Seq2SeqWeights weights;
  std::vector<double> losses;            // (steps): the batch's mean loss before each step
  std::vector<double> grad_first_input;  // per probe: ‖dL/dx_1‖, mean over the probe batch
  std::vector<double> grad_last_input;   // per probe: ‖dL/dx_n‖, the same for the last input
};

// Model (d)'s run.
struct TrainedTransformer {
  TransformerWeights weights;
  std::vector<double> losses, grad_first_input, grad_last_input;  // as TrainedModel's
};

struct TrainedModels {
  std::vector<TrainedModel> rnn;   // (a), (b), (c)
  TrainedTransformer transformer;  // (d)
};

// train_models — trains (a), (b), (c) and (d) from the same seed on the same batches: one Rng stream
// draws every batch once and all four models step on it, in the same order, each with its own chapter
// 14 AdamW (same lr, no weight decay) and the same clipping of the gradient's norm. Initial weights:
// init_seq2seq from Rng(seed + 1) for each RNN model (the shared parts are drawn in the same order, so
// (a), (b), (c) start from the same encoder, decoder, embeddings and output layer; (b) draws its
// attention weights after them), init_transformer(E, F, heads) from Rng(seed + 4) for (d). Every
// probe_every steps (and at step 0 and the end), the gradients reaching the first and the last source
// embedding are measured on a fixed probe batch of n_max-digit strings (Rng(seed + 2)). Every batch is
// training_batch(n_max, batch, excluded, data) from Rng(seed), where excluded is config.held_out and the
// probe strings: no model ever trains on a held-out or a probe string.
TrainedModels train_models(const TrainConfig& config);

// Greedy decoding of held-out strings, all of one length n: the fraction of digits and of whole
// strings that come out right.
struct LengthAccuracy {
  std::size_t n = 0, count = 0;  // the length, the number of strings scored
  double token = 0, sequence = 0;
};
LengthAccuracy evaluate_reversal(ContextKind kind, const Seq2SeqWeights& w,
                                 const std::vector<ReversalExample>& strings);
// The same for model (d): transformer_greedy on the same strings.
LengthAccuracy evaluate_reversal(const TransformerWeights& w, const std::vector<ReversalExample>& strings);

}  // namespace course
