// Chapter 16 — given code (not an exercise), defined in chapters/16_tiny_gpt/given/ and compiled with both the
// reference and your exercise, so training runs on the cross_entropy_backward and generation on the
// sample_next it is linked with. What it holds: the poems of 唐诗三百首 and their characters, the
// bigram baseline, the TinyGPT model (chapter 14's pre-norm encoder layer with exact GELU and a causal
// mask, between token and position embeddings and a final norm and head), its state_dict, its
// forward and backward, a training step, generation, and the measures of a trained model (the baselines
// tuned on the validation text, the lines' shape, the heads, the seeds' spread), which chapter 18 calls too.
#pragma once
#include "14_training/given.hpp"  // EncoderLayerForward, AdamW, NamedTensor, Batch
#include "16_tiny_gpt/contract.hpp"
#include "rng.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace course {

// --- the poems ----------------------------------------------------------------------------------------

// Where Debian's fortunes-zh package puts 唐诗三百首 (UTF-8).
constexpr const char* kTang300Path = "/usr/share/games/fortunes/tang300";

// One poem of the file: a title line and an author line (each wrapped in terminal colour codes
// "\x1b[32m...\x1b[m"), then the poem's lines (a line of the file is usually a couplet: two half-lines
// of 5 or 7 characters, "床前明月光，疑是地上霜。"), then a line "%".
struct Poem {
  std::string title;                  // 《静夜思》, colour codes removed
  std::string author;                 // after 作者：
  std::vector<std::u32string> lines;  // the poem's lines, as Unicode code points
};

// parse_tang300 — the poems of the file's text, in file order. Colour codes ("\x1b[" up to "m") are
// removed, empty lines skipped. Throws std::invalid_argument (naming the line) when the text is not
// valid UTF-8 or a poem lacks its title, its 作者： line or any line of text.
std::vector<Poem> parse_tang300(const std::string& text);

// load_tang300 — reads and parses the file at path. A missing or unreadable file is a usage_error
// naming the package ("... install Debian's fortunes-zh: ./course setup"); a malformed one too.
std::vector<Poem> load_tang300(const std::string& path = kTang300Path);

// UTF-8 to code points and back. decode_utf8 throws std::invalid_argument on malformed input.
std::u32string decode_utf8(const std::string& text);
std::string encode_utf8(const std::u32string& text);

// What the model reads of a poem: its lines, each followed by '\n', and one more '\n' (an empty line
// ends the poem). The title and author are left out.
std::u32string poem_text(const Poem& poem);

// The split of 唐诗三百首, by whole poems, in file order — chapter 16's, and chapter 18's after it:
// poem i (0-based) is a test poem when i % 10 == 9, a validation poem when i % 10 == 4, and a training
// poem otherwise. Every choice (learning rate, weight decay, steps, a baseline's smoothing) is made on
// the validation poems; the test poems are scored once, at the end. The file is ordered by form (五言古诗,
// 七言古诗, 五律, 七律, 五绝, 七绝, 乐府), so taking every tenth poem spreads both held-out parts over
// every form. Each part's text is its poems' texts one after the other.
enum class PoemPart { train, validation, test };
PoemPart poem_part(std::size_t poem_index);
struct PoemSplit {
  std::u32string train, validation, test;
  std::size_t train_poems = 0, validation_poems = 0, test_poems = 0;
};
PoemSplit split_tang300(const std::vector<Poem>& poems);

// Chapter 17's two parts: the test poems held out (is_held_out), every other poem trained on.
bool is_held_out(std::size_t poem_index);
struct Corpus {
  std::u32string train, held_out;
  std::size_t train_poems = 0, held_out_poems = 0;
};
Corpus split_poems(const std::vector<Poem>& poems);

// require_text_for_windows — for a program that trains on `data` in windows of n_ctx + 1 characters,
// each starting where a line starts: a usage_error naming data unless the training text holds two
// windows, each held-out part (its size in held_out_sizes) one, and some line of the training text
// starts one ("DATA: too little text for windows of N characters", "DATA: no training line starts a
// window of N characters"). Chapters 16 and 17 call it on their own splits before training.
void require_text_for_windows(const std::string& data, const std::u32string& train,
                              const std::vector<std::size_t>& held_out_sizes, std::size_t n_ctx);

// The characters: every code point of every poem's text (training and held-out, so held-out text can
// be written down) with '\n', sorted by code point; a character's id is its place in that order.
struct Vocabulary {
  std::vector<char32_t> chars;          // id -> character
  std::map<char32_t, std::size_t> ids;  // character -> id
  std::size_t size() const { return chars.size(); }
  // Throws std::invalid_argument for a character that is not in the vocabulary.
  std::vector<std::size_t> encode(const std::u32string& text) const;
  // Throws std::invalid_argument for an id not below size().
  std::string decode(const std::vector<std::size_t>& ids) const;  // UTF-8
};
Vocabulary make_vocabulary(const std::vector<Poem>& poems);
// vocabulary_of — the same for any text: its code points and '\n', sorted (chapter 18's corpus and poems).
Vocabulary vocabulary_of(const std::u32string& text);

// --- the n-gram baselines ------------------------------------------------------------------------------

// Character counts of a training text (ids below vocab): count(b) for every id, count(a, b) for every
// pair (b right after a), count_before(a) = Σ_b count(a, b). Throws std::invalid_argument when an id
// is not below vocab.
struct CharCounts {
  std::size_t vocab = 0;
  double total = 0;                  // N = the number of ids
  std::vector<double> counts;        // (V): count(b)
  std::vector<double> pair_counts;   // (V, V) row-major: count(a, b)
  std::vector<double> count_before;  // (V): count(a) as the first of a pair
};
CharCounts count_chars(const std::vector<std::size_t>& ids, std::size_t vocab);

// Three baselines, each a probability of the next id b after the id a (the unigram ignores a):
//   unigram, add-α:        P₁(b) = (count(b) + α) / (N + α V)
//   bigram, add-α:         P(b | a) = (count(a, b) + α) / (count(a) + α V)
//   interpolated bigram:   P(b | a) = λ · count(a, b) / count(a) + (1 − λ) · P₁(b)
//                          (Jelinek & Mercer 1980); P₁(b) alone when a was never seen
// α > 0 keeps every character possible; λ in [0, 1) weighs the bigram against the unigram. The program
// picks α and λ on the validation poems (Chen & Goodman 1999 compare these and other smoothings).
enum class NgramKind { unigram, add_alpha_bigram, interpolated_bigram };
struct NgramModel {
  NgramKind kind = NgramKind::unigram;
  double alpha = 1.0;   // the unigram's α (for add_alpha_bigram: the bigram's α)
  double lambda = 0.0;  // interpolated_bigram only
  double probability(const CharCounts& c, std::size_t a, std::size_t b) const;
};

// Bits for each listed position i of ids: −log₂ P(ids[i] | ids[i − 1]). Throws std::invalid_argument
// when α is not above 0, λ is not in [0, 1), or a position is 0 or not below ids.size().
std::vector<double> ngram_bits(const CharCounts& counts, const NgramModel& model,
                               const std::vector<std::size_t>& ids,
                               const std::vector<std::size_t>& positions);

// The mean of a list of per-character losses (bits or nats); std::invalid_argument when it is empty.
double mean_of(const std::vector<double>& losses);

// The characters never seen in training: for each listed position i, whether count(ids[i]) is 0. No
// model counted from (or trained on) the training text can know them, and every model pays for them.
std::vector<bool> unseen_in_training(const CharCounts& counts, const std::vector<std::size_t>& ids,
                                     const std::vector<std::size_t>& positions);

// The part of a mean loss spent on the marked positions: Σ_{i marked} losses[i] / losses.size().
// Throws std::invalid_argument when the two lists differ in length or are empty.
double share_on(const std::vector<double>& losses, const std::vector<bool>& marked);

// --- the model ----------------------------------------------------------------------------------------

// The sizes of a TinyGPT: vocab tokens, contexts of up to n_ctx, width d_model, n_heads heads, d_ff
// hidden units, n_layers blocks; positions = false leaves the position table out (the experiment).
struct TinyGptConfig {
  std::size_t vocab = 0, n_ctx = 32, d_model = 32, n_heads = 4, d_ff = 128, n_layers = 1;
  bool positions = true;
};

// The parameters, named after the state_dict of this PyTorch module (chapters/16_tiny_gpt/make_fixtures.py):
//   tok = Embedding(V, E); pos = Embedding(n_ctx, E);
//   blocks = [TransformerEncoderLayer(E, H, F, dropout=0, activation="gelu", norm_first=True)] * layers
//   norm = LayerNorm(E); head = Linear(E, V, bias=False)
//   x = tok(idx) + pos(arange(T));  x = block(x, src_mask=causal) for each block;  logits = head(norm(x))
struct TinyGpt {
  TinyGptConfig config;
  Matrix tok;                               // tok.weight (V, E)
  Matrix pos;                               // pos.weight (n_ctx, E); (0, E) without positions
  std::vector<EncoderLayerWeights> blocks;  // blocks.N.<chapter 11's keys>
  Vector norm_weight, norm_bias;            // norm.weight, norm.bias (E)
  Matrix head_weight;                       // head.weight (V, E)
};

// random_tiny_gpt — PyTorch's initialisation, drawn from rng in this order: tok ~ N(0, 1), pos ~ N(0, 1)
// (as Embedding; skipped without positions), each block as random_encoder_layer with its norms at 1
// and 0, norm at 1 and 0, head uniform in ±1/√E (as Linear).
TinyGpt random_tiny_gpt(Rng& rng, const TinyGptConfig& config);

// The parameter tensors in state_dict order: tok.weight, pos.weight (with positions), blocks.N.*,
// norm.weight, norm.bias, head.weight. Call it on the gradients too: same order.
std::vector<NamedTensor> named_tensors(TinyGpt& model);

// load_tiny_gpt — reads a TinyGPT's state_dict from DIR, one .npy per key: tok.weight (V, E),
// pos.weight (n_ctx, E), blocks.N.<chapter 11's keys> for N = 0, 1, ... while
// blocks.N.self_attn.in_proj_weight.npy exists (at least one), norm.weight, norm.bias (E), head.weight
// (V, E). V, n_ctx, E and d_ff come from the files, n_heads (dividing E) from the caller. Any missing
// file or wrong shape is a usage_error naming the file.
TinyGpt load_tiny_gpt(const std::string& dir, std::size_t n_heads);

// load_token_ids — DIR/NAME.npy, a (T,) int64 vector of token ids, each checked to be in [0, vocab):
// a usage_error naming the file and the entry otherwise (also for a wrong dtype or rank).
std::vector<std::size_t> load_token_ids(const std::string& dir, const std::string& name, std::size_t vocab);

// load_idx — DIR/idx.npy (load_token_ids), the T tokens a TinyGPT's --load files feed the model,
// checked to be 1 <= T <= n_ctx of the config: a usage_error otherwise (chapters 16 and 17).
std::vector<std::size_t> load_idx(const std::string& dir, const TinyGptConfig& config);

// The model and the tokens of a TinyGPT's --load files: load_tiny_gpt, then load_idx (chapters 16 and
// 17, whose files add targets.npy or a prefill length to these).
struct GptPrompt {
  TinyGpt model;                 // not const: named_tensors
  std::vector<std::size_t> ids;  // (T,)
};
GptPrompt load_gpt_prompt(const std::string& dir, std::size_t n_heads);

// What the backward needs from the forward.
struct TinyGptForward {
  Matrix logits;                            // (B·T, V)
  std::vector<std::size_t> ids;             // (B·T), the input
  std::size_t seq_len = 0;                  // T
  std::vector<EncoderLayerForward> blocks;  // each block's output and activations (weights: (B, H, T, T))
  LayerNormActivations norm;                // the final norm's: x (B·T, E) the last block's output
  Matrix normed;                            // (B·T, E): norm(x), what the head read
};

// tiny_gpt_forward — B sequences of T tokens (ids (B·T), 1 <= T <= n_ctx)  ->  logits (B·T, V):
//   x = tok[ids] + pos[t] (position t within its sequence)
//   x = encoder_layer_forward(x, T, block, H, norm_first = true, GELU, causal_mask(T)) for each block
//   logits = layer_norm(x, norm.weight, norm.bias, 1e-5) head.weightᵀ
// Throws std::invalid_argument when T is 0 or above n_ctx, T does not divide the ids, or an id is
// not below V.
TinyGptForward tiny_gpt_forward(const TinyGpt& model, const std::vector<std::size_t>& ids,
                                std::size_t seq_len);

// tiny_gpt_backward — dL/d(logits) (B·T, V)  ->  every parameter's gradient, in a TinyGpt (grads.tok is
// dL/d tok.weight, ...): the head (linear_backward, no bias), the final norm (layer_norm_backward),
// each block's encoder_layer_backward from the last, then pos.weight (row t gets every sequence's
// position t; rows from T on get 0) and tok.weight (embedding_backward).
TinyGpt tiny_gpt_backward(const TinyGpt& model, const TinyGptForward& forward, const Matrix& grad_logits);

// The loss and every gradient, for --save and the tests: forward, chapter 14's cross_entropy_loss
// for the loss, cross_entropy_backward (your exercise) for dL/d(logits), backward.
struct TinyGptLossAndGradients {
  TinyGptForward forward;
  double loss = 0;
  TinyGpt grads;
};
TinyGptLossAndGradients tiny_gpt_loss_and_gradients(const TinyGpt& model, const std::vector<std::size_t>& ids,
                                                    const std::vector<std::size_t>& targets,
                                                    std::size_t seq_len);

// train_step — one step: tiny_gpt_loss_and_gradients on a batch of sequences of seq_len, then
// optimizer.step. Returns the loss before the step.
double train_step(TinyGpt& model, AdamW& optimizer, const Batch& batch, std::size_t seq_len);

// --- the training choices -------------------------------------------------------------------------------

// What the program's flags choose; each was compared on the validation poems (docs/16-tiny_gpt.md).
//   lr_t = lr · warm-up · decay:  warm-up = (t + 1) / warmup for the first warmup steps (else 1);
//   with cosine, after the warm-up, decay = 0.1 + 0.9 · (1 + cos(π p)) / 2, p = (t − warmup) / (steps −
//   warmup) going from 0 to 1, so lr ends at lr / 10 (nanoGPT's schedule); AdamW's decoupled decay
//   is lr_t · weight_decay · θ (PyTorch's AdamW with a scheduler).
//   clip > 0: when the gradients' global norm ‖g‖ (all tensors as one vector) is above clip, each is
//   multiplied by clip / (‖g‖ + 1e-6) (torch.nn.utils.clip_grad_norm_).
//   decay_all = false: no weight decay on biases, norms' weights and the two embeddings (minGPT's
//   configure_optimizers); the matrices of the blocks and the head still decay.
//   tie: head.weight is tok.weight (Press & Wolf 2017): one (V, E) table read at the input and at the
//   output; its gradient is the sum of the two uses. It is the interop TinyGPT (README) with head.weight = tok.weight.
struct TrainingOptions {
  double lr = 1e-3, weight_decay = 0.01;
  std::size_t steps = 1, warmup = 0;
  bool cosine = false;
  double clip = 0.0;
  bool decay_all = true;
  bool tie = false;
};

// The learning rate of step t (0-based) under the options.
double learning_rate(const TrainingOptions& options, std::size_t t);

// tie_weights — the tied model's start: tok.weight and pos.weight scaled by 1/√E (entries N(0, 1/E), so
// that the first logits, normed · tokᵀ, are of order 1 as with the untied head), head.weight = tok.weight.
void tie_weights(TinyGpt& model);

// clip_global_norm — when the gradients' global norm ‖g‖ (all tensors as one vector) is above clip,
// each entry is multiplied by clip / (‖g‖ + 1e-6) (torch.nn.utils.clip_grad_norm_). Trainer's step
// calls it, and chapter 18's LoRA step.
void clip_global_norm(const std::vector<NamedTensor>& grads, double clip);

// How a training step gets a batch's loss and gradients: tiny_gpt_loss_and_gradients, or another
// model's through the same TinyGpt (chapter 17's grouped_loss_and_gradients).
using LossAndGradientsOf = TinyGptLossAndGradients (*)(const TinyGpt& model,
                                                       const std::vector<std::size_t>& ids,
                                                       const std::vector<std::size_t>& targets,
                                                       std::size_t seq_len);

// ScheduledAdamW — the optimizer step of every training loop from here on: clipping of the gradients'
// global norm (options.clip), then chapter 14's adamw_step on every tensor at this step's learning rate
// (learning_rate: warm-up, cosine decay) with the options' weight decay — on every tensor when
// options.decay_all, else on those decays(tensor) picks. Its moments start at zero on the first step.
//   ScheduledAdamW optimizer(options, decays);  optimizer.step(params, grads);   // once per step
class ScheduledAdamW {
 public:
  using Decays = std::function<bool(const NamedTensor&)>;
  explicit ScheduledAdamW(
      const TrainingOptions& options, Decays decays = [](const NamedTensor&) { return true; });
  void step(const std::vector<NamedTensor>& params, const std::vector<NamedTensor>& grads);
  std::size_t steps() const { return t_; }

 private:
  TrainingOptions options_;
  Decays decays_;
  std::size_t t_ = 0;
  std::vector<AdamWMoments> moments_;
};

// The training loop's optimizer for the TinyGPT: ScheduledAdamW on every tensor (the tied table once),
// biases, norms and the embeddings not decayed (minGPT's groups) unless options.decay_all.
//   Trainer trainer(options);  trainer.step(model, batch, seq_len);   // once per training step
class Trainer {
 public:
  explicit Trainer(const TrainingOptions& options,
                   LossAndGradientsOf loss_and_gradients = tiny_gpt_loss_and_gradients);
  // One step: the loss and gradients of the batch (tiny_gpt_loss_and_gradients), the tied table's two
  // gradients summed, clipping, then adamw_step on every parameter with lr_t and its weight decay.
  // Returns the loss before the step.
  double step(TinyGpt& model, const Batch& batch, std::size_t seq_len);

 private:
  TrainingOptions options_;
  LossAndGradientsOf loss_and_gradients_;
  ScheduledAdamW optimizer_;
};

// --- windows that start where a line starts ---------------------------------------------------------

// The model reads windows of the text. Each starts at the first character of a line, so position t of
// a window is t characters after a line's start: what position embeddings can then tell the model is
// where it stands in a line (and in the lines after it), the shape of regulated verse.
//
// line_starts — the positions of text where a non-empty line starts: 0 (if text[0] is not a line
// break) and every i with text[i − 1] == newline and text[i] != newline.
std::vector<std::size_t> line_starts(const std::vector<std::size_t>& text, std::size_t newline);

// A window of the text: ids start … start + length − 1; its first length − 1 ids are the input, its
// last length − 1 the targets (each id predicted from those before it in the window).
struct Window {
  std::size_t start = 0, length = 0;
};

// training_window — a window of seq_len + 1 ids at a line start drawn uniformly (rng.below) among the
// line starts s with s + seq_len + 1 <= text.size(). Throws std::invalid_argument when there is none.
Window training_window(Rng& rng, const std::vector<std::size_t>& starts, std::size_t text_size,
                       std::size_t seq_len);

// Batch of B training windows (rng draws them in order).
Batch training_batch(Rng& rng, const std::vector<std::size_t>& text, const std::vector<std::size_t>& starts,
                     std::size_t B, std::size_t seq_len);

// train_steps — `steps` steps of trainer on model, each on a training_batch of B windows of text drawn
// from rng (so a run split into stretches draws the same batches as one run). Returns the loss before
// each step. Chapter 16's program runs it between its validation reports, chapter 17's in one go.
std::vector<double> train_steps(TinyGpt& model, Trainer& trainer, Rng& rng,
                                const std::vector<std::size_t>& text, const std::vector<std::size_t>& starts,
                                std::size_t B, std::size_t seq_len, std::size_t steps);

// evaluation_windows — the whole text in windows that each predict every character once (apart from
// text[0], which has nothing before it): a window starts at a line start s and ends at the last line
// start s' <= s + seq_len (whole lines; the next window starts at s', so s' is predicted by the first
// window with the most context); a line longer than seq_len is cut at s + seq_len. The last window
// ends at the text's end.
std::vector<Window> evaluation_windows(const std::vector<std::size_t>& text, std::size_t newline,
                                       std::size_t seq_len);

// mean_loss — the mean cross-entropy (nats per character) of the model on the windows of a text, each
// window one sequence. predicted_positions lists the positions of text that were predicted, in order
// (the baselines are scored on exactly these), position_losses the loss at each (nats), in that order.
struct TextLoss {
  double loss = 0;  // nats per character: the mean of position_losses
  std::vector<std::size_t> predicted_positions;
  std::vector<double> position_losses;
};
TextLoss mean_loss(const TinyGpt& model, const std::vector<std::size_t>& text,
                   const std::vector<Window>& windows);

// generate — continues prompt (at least one id) by n_new tokens, one at a time: the model reads the
// last min(length, n_ctx) tokens, and sample_next (your exercise) picks the next from the last row of
// the logits. Returns prompt and continuation.
std::vector<std::size_t> generate(const TinyGpt& model, const std::vector<std::size_t>& prompt,
                                  std::size_t n_new, const SamplingOptions& options, Rng& rng);

// The multiply-adds of one training step on B sequences of T tokens (forward, backward about twice
// the forward, AdamW about 10 per parameter): per token each block 4E² + 2TE + 2EF, the head VE.
double training_step_multiply_adds(const TinyGptConfig& config, std::size_t batch, std::size_t seq_len);

// The memory a training step needs on `rows` positions (B·T), estimated for cli.hpp's limits: a few
// dozen (rows, F) activations per block and the (rows, V) logits with their gradient, 8 bytes each:
//   8 · rows · (40 F · layers + 3 V)
double training_memory_bytes(const TinyGptConfig& config, double rows);

// --- measuring a trained model (chapters 16 and 18) ------------------------------------------------------

// predicted_positions — the positions of a text that the windows predict: every window's characters
// after its first (mean_loss scores the model on them, ngram_bits the baselines on the same).
std::vector<std::size_t> predicted_positions(const std::vector<Window>& windows);

// in_bits — losses in nats, each divided by ln 2.
std::vector<double> in_bits(const std::vector<double>& nats);

// A baseline's choice on the validation text: every value tried, its bits, and the best.
struct Tuned {
  std::vector<double> values, validation_bits;
  NgramModel best;
  std::vector<double> validation, test;  // the best one's bits per predicted character
};

// tune_baselines — the three n-gram baselines counted in counts, each value of α (0.001 to 10) or λ
// (0.1 to 0.9) scored on the validation positions, the best kept and scored on validation and test:
// the unigram add-α, the bigram add-α, and the interpolated bigram with the chosen unigram's α.
struct NgramBaselines {
  Tuned unigram, add_alpha, interpolated;
};
NgramBaselines tune_baselines(const CharCounts& counts, const std::vector<std::size_t>& validation_ids,
                              const std::vector<std::size_t>& validation_positions,
                              const std::vector<std::size_t>& test_ids,
                              const std::vector<std::size_t>& test_positions);

// A regular line: two half-lines of the same length, 5 or 7 characters each, "，" after the first and
// "。", "？" or "！" after the second: 春眠不觉晓，处处闻啼鸟。
bool regular_line(const std::u32string& line);

// The shape of a text's lines: how many are regular, and how many half-lines have 5 or 7 characters.
struct LineShape {
  std::size_t lines = 0, regular = 0;
  // the pieces between punctuation marks or line breaks, and those of 5 or 7 characters
  std::size_t half_lines = 0, half_lines_5_or_7 = 0;
  double half_share() const {
    return half_lines == 0 ? 0.0 : static_cast<double>(half_lines_5_or_7) / static_cast<double>(half_lines);
  }
  double share() const {
    return lines == 0 ? 0.0 : static_cast<double>(regular) / static_cast<double>(lines);
  }
  LineShape& operator+=(const LineShape& o) {
    lines += o.lines;
    regular += o.regular;
    half_lines += o.half_lines;
    half_lines_5_or_7 += o.half_lines_5_or_7;
    return *this;
  }
};

// line_shape — the non-empty lines of a text, except the last (it may be cut off); half-lines: the
// non-empty pieces between '，', '。', '？', '！' and '\n' (the last piece left out).
LineShape line_shape(const std::u32string& text);

// What the heads attend to: mean weight, over the validation poems' regular lines' second half-lines
// (each line read on its own), on: the same place in the first half-line (i − n − 1), the character
// just before (i − 1), the line's first character.
struct HeadStatistics {
  std::vector<std::vector<double>> parallel, previous, line_start;  // [block][head]
  std::size_t queries = 0;
  double uniform =
      0;  // what each would be if every head spread its weight evenly over the past: mean 1/(i+1)
};
HeadStatistics head_statistics(const TinyGpt& model, const Vocabulary& vocab, const std::vector<Poem>& poems);

// Runs job(0), …, job(n − 1) on two threads (this course's machines have two cores). Each job is a
// whole training run on its own generator and writes only its own result, so the results are the same
// bits whatever the order: the seeds' runs stay reproducible. A job's exception is rethrown here.
void run_on_two_threads(std::size_t n, const std::function<void(std::size_t)>& job);

// The seeds' numbers: mean and sample standard deviation; mean_sd prints "8.4091 ± 0.0123" (the mean
// alone for one seed); percent prints "29.0%".
struct Spread {
  double mean = 0, sd = 0;
};
Spread spread(const std::vector<double>& x);
std::string mean_sd(const std::vector<double>& x);
std::string percent(double x);

}  // namespace course
