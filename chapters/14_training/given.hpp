// Chapter 14 — given code (not an exercise), defined in chapters/14_training/given/ and compiled with both the
// reference and your exercise, so the encoder layer's backward runs on the layer_norm_backward and the
// optimizer on the adamw_step it is linked with. Chapters 15–17 build on these pieces: the encoder
// layer's forward and backward (with ReLU or exact GELU), the losses with their gradients, the
// embedding's backward, named parameters and the AdamW optimizer, and the helpers of a training loop
// (argmax, accuracy).
#pragma once
#include "11_transformer_block/given.hpp"  // EncoderLayerWeights, random_encoder_layer
#include "13_backpropagation/given.hpp"    // linear_backward, attention_backward
#include "14_training/contract.hpp"
#include "rng.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace course {

// Declared in common/cli.hpp and common/print.hpp, which the programs include. Not included here: this
// header is in every exercise file of chapters 14-17, and CLI11 alone made each of those take seconds
// longer to compile (in ./course check and in ./course grade).
struct CommonOptions;
class SelfChecks;
void require_load_for(const CommonOptions& options, bool load_flags_given, const std::string& why);

// --- the encoder layer, forward and backward ---------------------------------------------------------

// The feed-forward network's activation: PyTorch's "relu" (chapter 11) or "gelu", the exact one
//   gelu(x) = x Φ(x) = x (1 + erf(x / √2)) / 2        (Hendrycks & Gimpel 2016; chapter 16 uses it)
enum class Activation { relu, gelu };

// act(x) and its derivative act'(x), entry by entry:
//   relu' = 1 where x > 0, else 0;   gelu'(x) = Φ(x) + x φ(x), φ(x) = exp(−x²/2) / √(2π)
Matrix activate(const Matrix& x, Activation act);
Matrix activation_derivative(const Matrix& x, Activation act);

// The encoder layer is written as llm.c writes GPT-2: each step a forward and a backward side by side,
// the forward filling a struct of what the backward needs (its *Activations), the backward reading
// it. The layer runs on B sequences of length L at once, stacked into (B·L, E): every step but
// attention works on each row alone, so one matrix product serves the whole batch (the projections
// too); attention mixes rows only within a sequence, so it runs sequence by sequence and head by head.

// layer_norm_forward — chapter 11's layer_norm, y = γ ⊙ (x − μ) · rstd + β row by row, keeping what
// layer_norm_backward (your exercise) reads: x, and each row's μ and rstd = 1 / sqrt(var + eps)
//   x (n, E), gamma (E), beta (E)  ->  y (n, E);  saved: x (n, E), mean (n), rstd (n)
// The same numbers as chapter 11's layer_norm, to the bit. Throws std::invalid_argument when gamma or
// beta is not E long.
struct LayerNormActivations {
  Matrix x;     // (n, E): what was normalised
  Vector mean;  // (n): μ of each row
  Vector rstd;  // (n): 1 / σ of each row, σ = sqrt(mean((x − μ)²) + eps)
};
Matrix layer_norm_forward(const Matrix& x, const Vector& gamma, const Vector& beta,
                          LayerNormActivations& saved, double eps = kLayerNormEps);
// layer_norm_backward on what layer_norm_forward saved:  g (n, E)  ->  dx, dγ, dβ
LayerNormGradients layer_norm_backward(const LayerNormActivations& saved, const Vector& gamma,
                                       const Matrix& grad_y);

// self_attention_forward — chapter 05's multi-head self-attention within each sequence of x:
//   x (B·L, E), L = seq_len, H = n_heads, mask (L, L) (true = may not attend) -> out (B·L, E)
//   qkv = x in_proj_weightᵀ + in_proj_bias (B·L, 3E), Q | K | V side by side, in one product;
//   head h of sequence b: P = softmax(q kᵀ / √d + mask) (L, L), d = E / H, its output P v into
//   columns [h d, (h + 1) d) of merged (a fully masked row: zeros); out = merged out_projᵀ + out_proj.bias
// Shapes are checked by the caller (encoder_layer_forward).
struct SelfAttentionActivations {
  std::size_t seq_len = 0;  // L
  std::size_t n_heads = 0;  // H
  Matrix x;                 // (B·L, E): what the projections read
  Matrix qkv;               // (B·L, 3E): Q | K | V side by side
  Tensor4 weights;          // (B, H, L, L): the attention weights P of every sequence and head
  Matrix merged;            // (B·L, E): the heads' outputs side by side, what out_proj read
};
Matrix self_attention_forward(const Matrix& x, const MultiHeadWeights& w, std::size_t seq_len,
                              std::size_t n_heads, const BoolMatrix& mask, SelfAttentionActivations& saved);
// The gradients of self-attention's input and its four weights (in_proj_weight, ... as stored).
struct SelfAttentionGradients {
  Matrix x;                  // (B·L, E)
  MultiHeadWeights weights;  // (3E, E), (3E), (E, E), (E)
};
// self_attention_backward — chapter 13's steps (multi_head_attention_backward's) on the whole batch:
// linear_backward of out_proj, attention_backward (chapter 13's exercise) per sequence and head,
// linear_backward of in_proj with dQ | dK | dV side by side. Query, key and value are the same x, so
// its gradient dQ W_q + dK W_k + dV W_v is the sum of the three.  d out (B·L, E) -> dx, d weights
SelfAttentionGradients self_attention_backward(const SelfAttentionActivations& saved,
                                               const MultiHeadWeights& w, const Matrix& grad_output);

// feed_forward_forward — FF(x) = linear2(act(linear1(x))), chapter 01's linear twice:
//   x (n, E), linear1 (F, E) and (F), linear2 (E, F) and (E)  ->  (n, E)
struct FeedForwardActivations {
  Activation activation = Activation::relu;
  Matrix x;           // (n, E): what linear1 read
  Matrix hidden_pre;  // (n, F): linear1's output, before the activation
  Matrix hidden;      // (n, F): after it, what linear2 read
};
Matrix feed_forward_forward(const Matrix& x, const Matrix& linear1_weight, const Vector& linear1_bias,
                            const Matrix& linear2_weight, const Vector& linear2_bias, Activation act,
                            FeedForwardActivations& saved);
// The gradients of the feed-forward network's input and four parameters.
struct FeedForwardGradients {
  Matrix x;               // (n, E)
  Matrix linear1_weight;  // (F, E)
  Vector linear1_bias;    // (F)
  Matrix linear2_weight;  // (E, F)
  Vector linear2_bias;    // (E)
};
// feed_forward_backward — linear_backward of linear2, times act'(hidden_pre), linear_backward of linear1
FeedForwardGradients feed_forward_backward(const FeedForwardActivations& saved, const Matrix& linear1_weight,
                                           const Matrix& linear2_weight, const Matrix& grad_output);

// What the encoder layer's backward needs from its forward pass: its steps' activations.
struct EncoderLayerActivations {
  bool norm_first = false;
  LayerNormActivations norm1;           // post-norm: x + SA(x);    pre-norm: x
  SelfAttentionActivations attention;   // post-norm: x;            pre-norm: norm1(x)
  LayerNormActivations norm2;           // post-norm: x1 + FF(x1);  pre-norm: x1
  FeedForwardActivations feed_forward;  // post-norm: x1;           pre-norm: norm2(x1)
};

struct EncoderLayerForward {
  Matrix output;  // (B·L, E)
  EncoderLayerActivations saved;
};

// encoder_layer_forward — chapter 11's encoder_layer on a batch, keeping what the backward needs:
//   src (B·L, E): B sequences of length L = seq_len, one after the other; mask (L, L) (true = may not
//   attend; no_mask(L, L) for none), the same for every sequence
//   post-norm (norm_first = false):  x1 = norm1(x + SA(x)),   out = norm2(x1 + FF(x1))
//   pre-norm  (norm_first = true):   x1 = x + SA(norm1(x)),   out = x1 + FF(norm2(x1))
//   SA = self_attention_forward, FF = feed_forward_forward, each norm layer_norm_forward
// With one sequence (seq_len = rows of src) and ReLU it is chapter 11's encoder_layer (equal to
// rounding: the products here go through common/linalg.hpp). Throws std::invalid_argument when
// seq_len is 0 or does not divide the rows, or a shape does not fit.
EncoderLayerForward encoder_layer_forward(const Matrix& src, std::size_t seq_len,
                                          const EncoderLayerWeights& w, std::size_t n_heads, bool norm_first,
                                          Activation act, const BoolMatrix& mask);

// The gradients of an encoder layer: its input, and every parameter in a struct of the parameters'
// own type (so grads.weights.linear1_weight is dL/d linear1.weight).
struct EncoderLayerGradients {
  Matrix src;                   // (B·L, E)
  EncoderLayerWeights weights;  // each of the twelve state_dict entries' gradient
};

// encoder_layer_backward — the forward's steps undone in reverse order, given dL/d(output) (B·L, E):
//   a residual x + f(x) sends its gradient both ways: dx = d(out) + (f's backward of d(out))
//   post-norm: d h2 = norm2'(d out); dx1 = d h2 + FF'(d h2); d h1 = norm1'(dx1); dx = d h1 + SA'(d h1)
//   pre-norm:  dx1 = d out + norm2'(FF'(d out));  dx = dx1 + norm1'(SA'(dx1))
// Throws std::invalid_argument when grad_output is not the output's shape or w does not fit.
EncoderLayerGradients encoder_layer_backward(const EncoderLayerActivations& saved,
                                             const EncoderLayerWeights& w, const Matrix& grad_output);

// --- named parameters ---------------------------------------------------------------------------------

// One parameter tensor (or its gradient) seen as a flat array, with its state_dict key: what an
// optimizer and a state_dict writer need. It points into the struct it came from (keep that alive).
struct NamedTensor {
  std::string name;                // e.g. "self_attn.in_proj_weight", "layers.0.linear1.bias"
  std::vector<std::size_t> shape;  // e.g. (3E, E)
  double* data = nullptr;          // row-major entries
  std::size_t size = 0;            // product of the shape
};

// named_tensor — one tensor of any rank (Matrix, Vector, ...) with its state_dict key.
template <class T>
NamedTensor named_tensor(const std::string& name, T& t) {
  return {name, {t.shape().begin(), t.shape().end()}, t.data(), t.size()};
}

// add_weight_and_bias — appends <module>.weight and <module>.bias, the two tensors of a Linear (a
// matrix and a vector) or a LayerNorm (two vectors), in PyTorch's state_dict order.
template <class Weight>
void add_weight_and_bias(std::vector<NamedTensor>& tensors, const std::string& module, Weight& weight,
                         Vector& bias) {
  tensors.push_back(named_tensor(module + ".weight", weight));
  tensors.push_back(named_tensor(module + ".bias", bias));
}

// parameter_count — the number of parameters (entries) of a model: the sizes of its named_tensors
// added up. For the TinyEncoder below, and the models of chapters 15 and 16.
template <class Model>
std::size_t parameter_count(const Model& model) {
  Model copy = model;  // named_tensors points into the model it is given
  std::size_t n = 0;
  for (const NamedTensor& t : named_tensors(copy)) n += t.size;
  return n;
}

// The twelve tensors of an EncoderLayerWeights in PyTorch's state_dict order (self_attn.in_proj_weight,
// self_attn.in_proj_bias, self_attn.out_proj.weight, self_attn.out_proj.bias, linear1.weight,
// linear1.bias, linear2.weight, linear2.bias, norm1.weight, norm1.bias, norm2.weight, norm2.bias),
// each name prefixed by `prefix` (e.g. "layers.0."). Call it on the gradients too: same order.
std::vector<NamedTensor> named_tensors(EncoderLayerWeights& w, const std::string& prefix = "");

// flat_entries(t) — its values as a flat list; numerical_gradient_in_place(t, loss, eps) — chapter 13's
// central differences over its entries (each changed in turn and put back), also flat. Together:
//   compare_gradients(flat_entries(grads[k]), numerical_gradient_in_place(params[k], loss, 1e-6))
std::vector<double> flat_entries(const NamedTensor& t);
std::vector<double> numerical_gradient_in_place(const NamedTensor& t, const std::function<double()>& loss,
                                                double eps);

// The names of the tensors with a suffix (".grad" for gradients), as --save writes them and PyTorch's
// state_dict names them, without .npy (for require_no_unread_files, npy.hpp).
std::vector<std::string> tensor_names(const std::vector<NamedTensor>& tensors,
                                      const std::string& suffix = "");

// --- AdamW --------------------------------------------------------------------------------------------

// adamw_step on tensors of any shape (Matrix, Vector, ...): the exercise's flat version on their entries.
// Throws std::invalid_argument when param and grad differ in shape.
template <class T>
void adamw_step(T& param, const T& grad, AdamWMoments& moments, std::size_t t, const AdamWOptions& options);

// The optimizer: torch.optim.AdamW(params, lr, betas=(beta1, beta2), eps, weight_decay). It keeps the
// step count t (shared by all parameters, as PyTorch's are all stepped together) and one AdamWMoments
// per parameter tensor, zero before the first step.
//   AdamW optimizer(options);
//   optimizer.step(named_tensors(weights), named_tensors(gradients));   // once per training step
class AdamW {
 public:
  explicit AdamW(const AdamWOptions& options);
  // t ← t + 1, then adamw_step on every parameter with its gradient (same names, same sizes, same
  // order on every call; std::invalid_argument otherwise).
  void step(const std::vector<NamedTensor>& params, const std::vector<NamedTensor>& grads);
  std::size_t steps() const { return t_; }
  const AdamWOptions& options() const { return options_; }

 private:
  AdamWOptions options_;
  std::size_t t_ = 0;
  std::vector<std::string> names_;
  std::vector<AdamWMoments> moments_;
};

// --- losses and their gradients -----------------------------------------------------------------------

struct LossAndGradient {
  double loss = 0;  // a number
  Matrix grad;      // dL/d(input), the input's shape
};

// softmax_cross_entropy — torch.nn.functional.cross_entropy(logits, targets) (mean over the rows) and
// its gradient with respect to the logits:
//   logits z (T, V), targets (T) each in [0, V)
//   L = (1/T) Σ_t −log softmax(z_t)[y_t] = (1/T) Σ_t (logsumexp(z_t) − z_t[y_t])
//   dL/dz_t = (softmax(z_t) − one_hot(y_t)) / T
// logsumexp is taken after subtracting the row's maximum, so no exp overflows. (Chapter 16 writes the
// gradient itself as an exercise.) Throws std::invalid_argument when targets is not T long or a
// target is not below V.
LossAndGradient softmax_cross_entropy(const Matrix& logits, const std::vector<std::size_t>& targets);

// cross_entropy_loss — the loss of softmax_cross_entropy alone (the same value, to the bit), without
// the gradient: one exp per logit instead of two, and no (T, V) matrix written. For evaluation, and for
// training loops whose gradient comes from elsewhere (chapter 16's cross_entropy_backward).
double cross_entropy_loss(const Matrix& logits, const std::vector<std::size_t>& targets);

// mse_loss — torch.nn.functional.mse_loss(output, target) (the mean over every entry) and its gradient:
//   L = (1/N) Σ (o − y)²,   dL/do = 2 (o − y) / N,   N = number of entries
// Throws std::invalid_argument when the shapes differ.
LossAndGradient mse_loss(const Matrix& output, const Matrix& target);

// embedding_backward — the gradient of a lookup table: out[i] = table[ids[i]], so every row of
// grad_output is added to its token's row (a scatter-add; a token used twice gets both):
//   ids (n), grad_output (n, E), vocab V  ->  dtable (V, E)
// Throws std::invalid_argument when ids is not n long or an id is not below V.
Matrix embedding_backward(const std::vector<std::size_t>& ids, const Matrix& grad_output, std::size_t vocab);

// --- helpers of a training loop -----------------------------------------------------------------------

// The index of the largest entry of each row (the first one on a tie): a classifier's predictions.
//   x (T, V)  ->  (T)
std::vector<std::size_t> argmax_rows(const Matrix& x);

// How many predictions are right, per token and per whole sequence of length seq_len.
struct Accuracy {
  std::size_t tokens = 0, tokens_right = 0;
  std::size_t sequences = 0, sequences_right = 0;  // a sequence is right when all its tokens are
  double per_token() const { return tokens == 0 ? 0.0 : static_cast<double>(tokens_right) / tokens; }
  double per_sequence() const {
    return sequences == 0 ? 0.0 : static_cast<double>(sequences_right) / sequences;
  }
};

// accuracy — compares predictions with targets (both B·L long, B sequences of length seq_len).
// Throws std::invalid_argument when the lengths differ or seq_len does not divide them.
Accuracy accuracy(const std::vector<std::size_t>& predictions, const std::vector<std::size_t>& targets,
                  std::size_t seq_len);

// --- the tiny encoder that chapter 14 trains ----------------------------------------------------------

// Its sizes. vocab tokens, sequences of seq_len, width d_model, n_heads heads, d_ff hidden units,
// n_layers encoder layers (post-norm or pre-norm), with or without a learned position table.
struct TinyEncoderConfig {
  std::size_t vocab = 10, seq_len = 8, d_model = 32, n_heads = 2, d_ff = 64, n_layers = 1;
  bool norm_first = false;
  bool positions = true;
};

// The parameters, named after the state_dict of this PyTorch model (chapters/14_training/make_fixtures.py):
//   tok = Embedding(vocab, E); pos = Parameter(seq_len, E) (absent without positions);
//   layers = [TransformerEncoderLayer(E, H, F, dropout=0, batch_first=True, norm_first)] * n_layers;
//   head = Linear(E, vocab)
//   logits = head(layers(tok[ids] + pos))
struct TinyEncoder {
  TinyEncoderConfig config;
  Matrix tok;                               // tok.weight (V, E)
  Matrix pos;                               // pos (L, E), or (0, E) without positions
  std::vector<EncoderLayerWeights> layers;  // layers.N.<chapter 11's keys>
  Matrix head_weight;                       // head.weight (V, E)
  Vector head_bias;                         // head.bias (V)
};

// random_tiny_encoder — PyTorch's initialisation, drawn from rng in this order: tok ~ N(0, 1) (as
// Embedding), pos ~ N(0, 1) (a table of vectors like tok), each layer as random_encoder_layer with its
// norms at 1 and 0 (as PyTorch starts them), head uniform in ±1/√E (as Linear).
TinyEncoder random_tiny_encoder(Rng& rng, const TinyEncoderConfig& config);

// The parameter tensors in state_dict order: tok.weight, pos (with positions), layers.N.*, head.weight,
// head.bias. Call it on the gradients too: same order.
std::vector<NamedTensor> named_tensors(TinyEncoder& model);

// load_tiny_encoder — reads a TinyEncoder's state_dict from DIR, one .npy per key: tok.weight (V, E),
// pos (L, E) if the file exists (else no positions; L is then seq_len), layers.N.<chapter 11's keys>
// for N = 0, 1, ... while layers.N.self_attn.in_proj_weight.npy exists (at least one), head.weight
// (V, E), head.bias (V). Sizes come from the files; n_heads (dividing E) and norm_first from the
// caller. Any problem is a usage_error naming the file.
TinyEncoder load_tiny_encoder(const std::string& dir, std::size_t n_heads, bool norm_first,
                              std::size_t seq_len);

struct TinyEncoderForward {
  Matrix logits;                            // (B·L, V)
  std::vector<std::size_t> ids;             // (B·L), the input
  std::vector<EncoderLayerForward> layers;  // each layer's output and activations
  Matrix head_input;                        // (B·L, E): the last layer's output
};

// tiny_encoder_forward — ids (B·L): B sequences of seq_len tokens  ->  logits (B·L, V) and activations.
// No mask: every position sees every other. Throws std::invalid_argument when the length is not a
// multiple of seq_len or an id is not below vocab.
TinyEncoderForward tiny_encoder_forward(const TinyEncoder& model, const std::vector<std::size_t>& ids);

// tiny_encoder_backward — dL/d(logits) (B·L, V)  ->  the gradient of every parameter, in a TinyEncoder
// (grads.tok is dL/d tok.weight, ...): head's linear_backward, each layer's encoder_layer_backward
// from the last, then the position table (the sum over sequences of each position's row) and the
// embedding (embedding_backward).
TinyEncoder tiny_encoder_backward(const TinyEncoder& model, const TinyEncoderForward& forward,
                                  const Matrix& grad_logits);

// A batch of B sequences of L tokens for a model that predicts one target per input token.
struct Batch {
  std::vector<std::size_t> inputs;   // (B·L): sequence b is entries [b·L, (b + 1)·L)
  std::vector<std::size_t> targets;  // (B·L): the token each position must predict
};

// train_step — one step of training: forward, softmax_cross_entropy over every token, backward,
// optimizer.step. Returns the loss before the step (what PyTorch's loss.item() shows at that step).
double train_step(TinyEncoder& model, AdamW& optimizer, const Batch& batch);

// keep_freed_memory — tells the C library (glibc's malloc) to keep freed memory for the next
// allocation instead of handing it back to the kernel. By default glibc serves an allocation of 128 KiB
// or more with a fresh mapping from the kernel and unmaps it when freed, and gives the top of the heap
// back once 128 KiB are free there; a training step allocates the same activations every step (a
// (B·L, F) matrix is 128 KiB at B = 32, L = 8, F = 64), so every step would fault in and zero every
// page again. Measured with bench/bench_14_training (perf): without this call about 60% of a step's
// time went to the kernel's page faults, memset and memmove, and `--default-malloc` (the bench
// without it) takes 2 to 3 times as long per step. Call it once, first thing in a program that
// trains. It changes no number the program computes.
void keep_freed_memory();

// run_training_program — how chapters 14, 16, 17 and 18 run (opt.common: their CommonOptions):
// keep_freed_memory, then with --load DIR the
// computation on PyTorch's files (run_loaded), without it the chapter's own training run (run_default),
// after refusing the flags that only describe --load files (require_load_for: load_flags_given, why).
template <class Options>
int run_training_program(const Options& opt, bool load_flags_given, const std::string& why,
                         int (*run_loaded)(const Options&), int (*run_default)(const Options&)) {
  keep_freed_memory();  // a training loop allocates the same activations every step: keep them
  if (!opt.common.load_dir.empty()) return run_loaded(opt);
  require_load_for(opt.common, load_flags_given, why);
  return run_default(opt);
}

// check_training_run — a training program's first two self-checks: the first steps trained again from
// the same seed (rerun) gave the run's losses to the last bit, and every number in `losses` and in each
// of `others` (other runs' losses, validation scores) is finite.
void check_training_run(SelfChecks& checks, const std::vector<double>& rerun,
                        const std::vector<double>& losses, const std::vector<std::vector<double>>& others);

// The multiply-adds of one training step (forward, backward, AdamW) on a batch of B sequences,
// counted from the sizes: the products of the layers and the head, about three times the forward's.
double training_step_multiply_adds(const TinyEncoderConfig& config, std::size_t batch);

// --- implementation of the template -------------------------------------------------------------------

namespace detail {
// Throws std::invalid_argument "adamw_step: param is (a, b) but grad is (c, d)" unless they agree.
void require_param_and_grad(const std::vector<std::size_t>& param, const std::vector<std::size_t>& grad);
}  // namespace detail

template <class T>
void adamw_step(T& param, const T& grad, AdamWMoments& moments, std::size_t t, const AdamWOptions& options) {
  detail::require_param_and_grad({param.shape().begin(), param.shape().end()},
                                 {grad.shape().begin(), grad.shape().end()});
  adamw_step(param.data(), grad.data(), param.size(), moments, t, options);
}

}  // namespace course
