// Chapter 17 — given code (not an exercise), defined in chapters/17_fast_generation/given/ and compiled with both
// the reference and your exercise, so prefill and cached generation run on the grouped_query_attention
// and decode_step they are linked with. What it holds: the KV cache (a buffer per block, and a ring
// buffer of W slots for a sliding window), prefill, the cached forward and generation, the full
// recomputation with a band mask that the cache is checked against, TinyGPTs with grouped K/V heads
// (G of them, dividing H), and their training.
#pragma once
#include "16_tiny_gpt/given.hpp"  // TinyGpt, tiny_gpt_forward, train_step, mean_loss, generate
#include "17_fast_generation/contract.hpp"
#include "rng.hpp"

#include <cstddef>
#include <vector>

namespace course {

// --- TinyGPTs with grouped K/V heads -----------------------------------------------------------------

// A TinyGPT with G = n_kv_heads K/V heads is chapter 16's TinyGpt whose blocks' in_proj_weight has
// E + 2·G·d_k rows instead of 3E (d_k = E / H), and in_proj_bias as many entries:
//   rows [0, E)                 W_q, H query heads of d_k rows each (as in chapter 16)
//   rows [E, E + G·d_k)         W_k, G key heads of d_k rows each
//   rows [E + G·d_k, E + 2G·d_k) W_v, G value heads
// Query head h reads K/V head h / (H/G). G = H is chapter 16's model exactly; every other tensor is
// chapter 16's too, so named_tensors, AdamW and report_results work unchanged. This layout is the
// course's own (PyTorch 1.13 has no grouped-query module).

// n_kv_heads_of — G, read from block 0's in_proj_weight: (rows − E) / (2 d_k). Throws
// std::invalid_argument when the rows are not E + 2·G·d_k for a G dividing H, or the blocks differ.
std::size_t n_kv_heads_of(const TinyGpt& model);

// group_kv_heads — a TinyGPT with G K/V heads made from one with H (3E rows): K/V head g keeps the
// rows of head g·(H/G), the first of its group; everything else is copied. G = H returns the model.
// Throws std::invalid_argument when G is 0 or does not divide H, or the model is already grouped.
TinyGpt group_kv_heads(const TinyGpt& model, std::size_t n_kv_heads);

// random_grouped_gpt — random_tiny_gpt(rng, config) (the same draws, so the same seed gives the same
// embeddings, norms, feed-forwards and head for every G), then group_kv_heads(G).
TinyGpt random_grouped_gpt(Rng& rng, const TinyGptConfig& config, std::size_t n_kv_heads);

// expand_kv_heads — the multi-head TinyGPT that computes the same function: each K/V head's rows of
// in_proj_weight and in_proj_bias repeated H/G times (torch.repeat_interleave(·, H/G) on the heads),
// so query head h meets copies of K/V head h / (H/G). A model with G = H is returned as it is.
TinyGpt expand_kv_heads(const TinyGpt& model);

// fold_kv_gradients — the gradient of a grouped model from that of its expansion: K/V head g was
// used H/G times (rows of heads g·(H/G) ... (g+1)·(H/G) − 1 of the expansion), so its gradient is the
// sum of theirs (the chain rule through a tied weight); every other gradient is the same.
//   grads: tiny_gpt_backward's of expand_kv_heads(model)  ->  gradients shaped like model
TinyGpt fold_kv_gradients(const TinyGpt& expanded_grads, std::size_t n_heads, std::size_t n_kv_heads);

// grouped_loss_and_gradients — the loss and gradients of a grouped model: chapter 16's
// tiny_gpt_loss_and_gradients on the expansion, folded. Training computes every K/V head H/G times (as
// multi-head attention): grouping saves memory at generation time, not work here. Chapter 16's
// Trainer trains a grouped model with it: Trainer trainer(options, grouped_loss_and_gradients).
TinyGptLossAndGradients grouped_loss_and_gradients(const TinyGpt& model, const std::vector<std::size_t>& ids,
                                                   const std::vector<std::size_t>& targets,
                                                   std::size_t seq_len);

// grouped_mean_loss — chapter 16's mean_loss (nats per character on a text's windows) for any G.
TextLoss grouped_mean_loss(const TinyGpt& model, const std::vector<std::size_t>& text,
                           const std::vector<Window>& windows);

// --- full recomputation, with a band mask ------------------------------------------------------------

// band_mask — what a query may not see with a sliding window of W (true = may not attend):
//   mask[i][j] = j > i  or  j <= i − W;     W = 0: the causal mask (chapter 04's causal_mask)
// Source: Child et al. 2019 (local "strided" patterns), Beltagy et al. 2020 (Longformer, sliding
// window attention).
BoolMatrix band_mask(std::size_t n, std::size_t window);

// recompute_logits — the full forward over one sequence of T tokens (1 <= T <= n_ctx), every position
// at once, with band_mask(T, window): chapter 16's forward (chapter 14's encoder_layer_forward per
// block) on expand_kv_heads(model). With window = 0 and G = H it is tiny_gpt_forward(model, ids, T).
//   ids (T)  ->  logits (T, V)
// Throws std::invalid_argument like tiny_gpt_forward, and for a model without its position table.
Matrix recompute_logits(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t window = 0);

// --- the KV cache -------------------------------------------------------------------------------------

// The keys and values every block computed for the tokens so far, so that a new token's attention
// reads them instead of computing them again (Pope et al. 2022, section 2). Per block, a buffer of
// `slots` rows of G·d_k for K and one for V, allocated once:
//   no window:  slots = n_ctx; position p is kept in slot p (the cache fills up in order)
//   window W:   slots = min(W, n_ctx), a ring buffer: position p is written to slot p mod W, over the
//               position p − W it held, which a window of W no longer sees
// With absolute positions (pos.weight has n_ctx rows) a sequence still ends at n_ctx tokens: the
// window bounds the cache's memory (and attention's work), not the sequence's length.
struct KvCache {
  std::size_t n_layers = 0, n_kv_heads = 0, d_k = 0, n_ctx = 0;
  std::size_t window = 0;           // W; 0: none
  std::size_t slots = 0;            // rows of each buffer
  std::size_t length = 0;           // tokens stored in every block (decode_step and prefill advance it)
  std::vector<Matrix> k, v;         // [block] (slots, G·d_k)
  std::vector<std::size_t> stored;  // [block] positions stored so far (store's count)

  // store — keeps the key and value of position p for block l: k_row, v_row (1, G·d_k) go to slot
  // p mod slots. Positions come in order: p must be stored[l] (the next one). Throws
  // std::out_of_range when p >= n_ctx, std::invalid_argument when l is not a block, p is not the
  // next position, or a row is not (1, G·d_k).
  void store(std::size_t l, std::size_t p, const Matrix& k_row, const Matrix& v_row);
  // keys(l), values(l) — the filled slots of block l, in slot order: (min(stored[l], slots), G·d_k).
  Matrix keys(std::size_t l) const;
  Matrix values(std::size_t l) const;
  // positions_for(p) — what a query at position p reads after store(·, p, ·, ·): first_query = p,
  // key_positions[s] = the position in slot s (s with no window; with a ring, the latest position
  // <= p that went to slot s), and the window.
  AttentionPositions positions_for(std::size_t p) const;
  // The bytes of the buffers as allocated (float64): 2 · n_layers · slots · G · d_k · 8.
  double bytes() const;
};

// make_kv_cache — an empty cache for model (G from n_kv_heads_of) with a window of W (0: none).
// Throws std::invalid_argument for a model without its position table (n_ctx rows).
KvCache make_kv_cache(const TinyGpt& model, std::size_t window = 0);

// The two halves of a pre-norm block around its attention, for rows x (n, E) of a model with G K/V
// heads of d_k (width = G·d_k), as prefill and decode_step use them:
//   grouped_qkv:            h = layer_norm(x, norm1) (kLayerNormEps), qkv = linear(h, in_proj), cut into
//                           q = qkv[:, 0:E] (n, E), k = qkv[:, E:E+width], v = qkv[:, E+width:E+2·width]
//   feed_forward_residual:  x + linear2(gelu(linear1(layer_norm(x, norm2))))      (n, E)
struct GroupedQkv {
  Matrix q;  // (n, E): H query heads
  Matrix k;  // (n, G·d_k)
  Matrix v;  // (n, G·d_k)
};
GroupedQkv grouped_qkv(const Matrix& x, const EncoderLayerWeights& w, std::size_t width);
Matrix feed_forward_residual(const Matrix& x, const EncoderLayerWeights& w);

// prefill — the prompt's P tokens in one forward pass (all positions at once, as recompute_logits
// does), storing every block's K and V in the cache on the way:
//   ids (P), an empty cache  ->  logits (P, V); cache.length = P
// Attention runs on grouped_query_attention (your exercise) over the P keys computed here, with the
// cache's window. P = 0 is allowed (logits (0, V), nothing stored). Throws std::invalid_argument when
// the cache is not empty or an id is not below V, std::out_of_range when P > n_ctx.
Matrix prefill(const TinyGpt& model, KvCache& cache, const std::vector<std::size_t>& ids);

// cached_logits — prefill of the first P tokens, then decode_step (your exercise) on each of the
// others: ids (T), 0 <= P <= T <= n_ctx  ->  logits (T, V), row t the logits after token t. Equal to
// recompute_logits(model, ids, window) to rounding. Throws std::invalid_argument when P > T,
// std::out_of_range when T > n_ctx.
Matrix cached_logits(const TinyGpt& model, const std::vector<std::size_t>& ids, std::size_t prefill_length,
                     std::size_t window = 0);

// generate_cached — chapter 16's generate with a KV cache: prefill of the prompt, then one
// decode_step per new token, sample_next on each new row of logits. The same tokens as
// generate(expand_kv_heads(model), prompt, n_new, options, rng) (for G = H: generate(model, ...)) from
// the same rng state, as long as the context fits:
// prompt.size() + n_new <= n_ctx + 1 (the last token sampled is never fed back). Throws
// std::invalid_argument when the prompt is empty or the context does not fit.
std::vector<std::size_t> generate_cached(const TinyGpt& model, const std::vector<std::size_t>& prompt,
                                         std::size_t n_new, const SamplingOptions& options, Rng& rng);

// The multiply-adds of producing the next token's logits at context length n (the new token is the
// n-th), counted from the sizes (d_k = E/H):
//   cached (one decode_step):  per block 2E² + 2E·G·d_k (projections) + 2E·F (feed-forward)
//                              + 2·H·d_k·min(n, W) (scores and weighted sum), plus the head V·E
//   recomputed (chapter 16's generate: every block over all n tokens, the head on the last):
//                              per block n (4E² + 2E·F) + 2E·n² (chapter 14's attention scores every
//                              pair and masks the future afterwards), plus V·E
double cached_token_multiply_adds(const TinyGptConfig& config, std::size_t n_kv_heads, std::size_t n,
                                  std::size_t window = 0);
double recomputed_token_multiply_adds(const TinyGptConfig& config, std::size_t n);

// --- time per token --------------------------------------------------------------------------------

// time_per_token — the time to produce the next token's logits at each context length n (the n-th
// token), both ways, measured in one run: one decode_step at position n − 1 from a copy of a cache
// holding the first n − 1 ids, and one recomputation (chapter 16's generate for one greedy token:
// every block over all n ids, the head on the last). In each round every length is timed both ways
// in turn, so both see the same load; a first round warms up and is not counted; each time is the
// median over `rounds`. ids must hold at least max(lengths) valid tokens, each length at most n_ctx.
// Timings depend on the machine and its load: never assert them in a test.
struct TokenTimes {
  std::vector<std::size_t> lengths;                        // n
  std::vector<double> cached_seconds, recomputed_seconds;  // medians
  std::size_t rounds = 0;
};
TokenTimes time_per_token(const TinyGpt& model, const std::vector<std::size_t>& ids,
                          const std::vector<std::size_t>& lengths, std::size_t rounds);

// fitted_exponent — a in y ∝ x^a: the least-squares slope of log y against log x (x, y > 0, the same
// length, at least two distinct x). Throws std::invalid_argument otherwise.
double fitted_exponent(const std::vector<std::size_t>& x, const std::vector<double>& y);

}  // namespace course
