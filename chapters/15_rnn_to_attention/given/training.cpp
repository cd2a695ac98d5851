// Chapter 15 — given code (declared in chapters/15_rnn_to_attention/given.hpp): the reversal task, gradient
// clipping, and the training loop of the four encoder–decoders.
#include "15_rnn_to_attention/given.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace course {

ReversalExample reversal_example(std::size_t n, Rng& rng) {
  ReversalExample e;
  for (std::size_t i = 0; i < n; ++i) e.source.push_back(static_cast<std::size_t>(rng.below(kDigits)));
  e.target.assign(e.source.rbegin(), e.source.rend());
  e.fed.push_back(kBos);
  for (std::size_t i = 0; i + 1 < n; ++i) e.fed.push_back(e.target[i]);
  return e;
}

std::vector<ReversalExample> held_out_strings(std::size_t n, std::size_t count, Rng& rng) {
  std::size_t all = 1;  // 10^n, capped where it no longer matters
  for (std::size_t i = 0; i < n && all < 2 * count; ++i) all *= kDigits;
  const std::size_t wanted = std::min(count, all / 2);
  DigitSet seen;
  std::vector<ReversalExample> strings;
  while (strings.size() < wanted) {
    ReversalExample e = reversal_example(n, rng);
    if (seen.insert(e.source).second) strings.push_back(std::move(e));
  }
  return strings;
}

std::vector<ReversalExample> training_batch(std::size_t n_max, std::size_t batch, const DigitSet& excluded,
                                            Rng& rng) {
  std::vector<ReversalExample> strings;
  for (std::size_t b = 0; b < batch; ++b) {
    const std::size_t n = 1 + static_cast<std::size_t>(rng.below(n_max));
    ReversalExample e = reversal_example(n, rng);
    while (excluded.count(e.source) > 0) e = reversal_example(n, rng);
    strings.push_back(std::move(e));
  }
  return strings;
}

double clip_gradient_norm(const std::vector<NamedTensor>& grads, double max_norm) {
  double sq = 0.0;
  for (const NamedTensor& g : grads)
    for (std::size_t i = 0; i < g.size; ++i) sq += g.data[i] * g.data[i];
  const double norm = std::sqrt(sq);
  if (norm > max_norm) {
    const double scale = max_norm / norm;
    for (const NamedTensor& g : grads)
      for (std::size_t i = 0; i < g.size; ++i) g.data[i] *= scale;
  }
  return norm;
}

namespace {

// total += g, entry by entry, over every parameter
void accumulate(Seq2SeqWeights& total, Seq2SeqWeights& g) {
  const std::vector<NamedTensor> t = named_tensors(total), d = named_tensors(g);
  for (std::size_t k = 0; k < t.size(); ++k)
    for (std::size_t i = 0; i < t[k].size; ++i) t[k].data[i] += d[k].data[i];
}

double row_norm(const Matrix& m, std::size_t i) {
  double sq = 0.0;
  for (std::size_t j = 0; j < m.shape(1); ++j) sq += m(i, j) * m(i, j);
  return std::sqrt(sq);
}

}  // namespace

// total += g, entry by entry, over every parameter of model (d)
static void accumulate(TransformerWeights& total, TransformerWeights& g) {
  const std::vector<NamedTensor> t = named_tensors(total), d = named_tensors(g);
  for (std::size_t k = 0; k < t.size(); ++k)
    for (std::size_t i = 0; i < t[k].size; ++i) t[k].data[i] += d[k].data[i];
}

TrainedModels train_models(const TrainConfig& c) {
  if (c.n_max == 0 || c.H == 0 || c.D == 0 || c.batch == 0 || c.probe_every == 0 || c.E == 0 || c.F == 0 ||
      c.heads == 0)
    throw std::invalid_argument("train_models: sizes must be at least 1");
  TrainedModels out;
  std::vector<TrainedModel>& models = out.rnn;
  for (ContextKind kind : {ContextKind::fixed, ContextKind::additive, ContextKind::dot_product}) {
    Rng init(c.seed + 1);
    TrainedModel m;
    m.kind = kind;
    m.weights = init_seq2seq(c.D, c.H, kind == ContextKind::additive ? c.A : 0, init);
    models.push_back(m);
  }
  TrainedTransformer& d = out.transformer;
  Rng init_d(c.seed + 4);
  d.weights = init_transformer(c.E, c.F, c.heads, init_d);
  AdamWOptions options;
  options.lr = c.lr;
  options.weight_decay = 0.0;
  std::vector<AdamW> optimisers(models.size(), AdamW(options));
  AdamW optimiser_d(options);
  // the probe batch: fixed strings of the longest length, never trained on (nor are the held-out ones)
  Rng probe_rng(c.seed + 2);
  std::vector<ReversalExample> probe;
  DigitSet excluded = c.held_out;
  for (std::size_t b = 0; b < c.batch; ++b) {
    probe.push_back(reversal_example(c.n_max, probe_rng));
    excluded.insert(probe.back().source);
  }
  Rng data(c.seed);
  const double scale = 1.0 / static_cast<double>(c.batch);
  for (std::size_t step = 0; step <= c.steps; ++step) {
    if (step % c.probe_every == 0 || step == c.steps) {
      for (TrainedModel& m : models) {
        double first = 0.0, last = 0.0;
        for (const ReversalExample& e : probe) {
          const Seq2SeqForward f = seq2seq_forward(m.kind, m.weights, e.source, e.fed);
          const Seq2SeqGradients g =
              seq2seq_backward(m.kind, m.weights, f, softmax_cross_entropy(f.logits, e.target).grad);
          first += row_norm(g.encoder_input, 0) * scale;
          last += row_norm(g.encoder_input, c.n_max - 1) * scale;
        }
        m.grad_first_input.push_back(first);
        m.grad_last_input.push_back(last);
      }
      double first = 0.0, last = 0.0;
      for (const ReversalExample& e : probe) {
        const TransformerForward f = transformer_forward(d.weights, e.source, e.fed);
        const TransformerGradients g =
            transformer_backward(d.weights, f, softmax_cross_entropy(f.logits, e.target).grad);
        first += row_norm(g.encoder_input, 0) * scale;
        last += row_norm(g.encoder_input, c.n_max - 1) * scale;
      }
      d.grad_first_input.push_back(first);
      d.grad_last_input.push_back(last);
    }
    if (step == c.steps) break;
    // one batch, drawn once, for all four models
    const std::vector<ReversalExample> batch = training_batch(c.n_max, c.batch, excluded, data);
    for (std::size_t k = 0; k < models.size(); ++k) {
      TrainedModel& m = models[k];
      Seq2SeqWeights total = zeros_like(m.weights);
      double loss = 0.0;
      for (const ReversalExample& e : batch) {
        const Seq2SeqForward f = seq2seq_forward(m.kind, m.weights, e.source, e.fed);
        LossAndGradient ce = softmax_cross_entropy(f.logits, e.target);
        loss += ce.loss * scale;
        ce.grad *= scale;
        Seq2SeqGradients g = seq2seq_backward(m.kind, m.weights, f, ce.grad);
        accumulate(total, g.weights);
      }
      m.losses.push_back(loss);
      const std::vector<NamedTensor> grads = named_tensors(total);
      clip_gradient_norm(grads, c.clip);
      optimisers[k].step(named_tensors(m.weights), grads);
    }
    // model (d), the same way on the same batch
    TransformerWeights total = zeros_like(d.weights);
    double loss = 0.0;
    for (const ReversalExample& e : batch) {
      const TransformerForward f = transformer_forward(d.weights, e.source, e.fed);
      LossAndGradient ce = softmax_cross_entropy(f.logits, e.target);
      loss += ce.loss * scale;
      ce.grad *= scale;
      TransformerGradients g = transformer_backward(d.weights, f, ce.grad);
      accumulate(total, g.weights);
    }
    d.losses.push_back(loss);
    const std::vector<NamedTensor> grads = named_tensors(total);
    clip_gradient_norm(grads, c.clip);
    optimiser_d.step(named_tensors(d.weights), grads);
  }
  return out;
}

namespace {

// Scores held-out strings of one length: the share of digits and of whole strings that `predict`
// (source digits -> predicted digits) gets right.
template <class Predict>
LengthAccuracy score_reversal(const std::vector<ReversalExample>& strings, const Predict& predict) {
  if (strings.empty()) throw std::invalid_argument("evaluate_reversal: no strings to score");
  LengthAccuracy a;
  a.n = strings.front().source.size();
  a.count = strings.size();
  std::size_t right_tokens = 0, right_sequences = 0;
  for (const ReversalExample& e : strings) {
    if (e.source.size() != a.n)
      throw std::invalid_argument("evaluate_reversal: strings of different lengths");
    const Seq2SeqPrediction p = predict(e.source);
    std::size_t right = 0;
    for (std::size_t t = 0; t < a.n; ++t) right += p.digits[t] == e.target[t] ? 1 : 0;
    right_tokens += right;
    right_sequences += right == a.n ? 1 : 0;
  }
  a.token = static_cast<double>(right_tokens) / static_cast<double>(a.n * a.count);
  a.sequence = static_cast<double>(right_sequences) / static_cast<double>(a.count);
  return a;
}

}  // namespace

LengthAccuracy evaluate_reversal(ContextKind kind, const Seq2SeqWeights& w,
                                 const std::vector<ReversalExample>& strings) {
  return score_reversal(strings,
                        [&](const auto& source) { return seq2seq_greedy(kind, w, source, source.size()); });
}

LengthAccuracy evaluate_reversal(const TransformerWeights& w, const std::vector<ReversalExample>& strings) {
  return score_reversal(strings,
                        [&](const auto& source) { return transformer_greedy(w, source, source.size()); });
}

}  // namespace course
