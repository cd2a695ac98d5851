// Chapter 19 — A vision transformer: a small ViT trained on Fashion-MNIST beside a CNN of about the same
// size, on the same batches; then what its heads learned.
//
//   build/bin/ch19_vision_transformer [--full] [--steps N] [--batch B] [--seeds S] [--data DIR]
//                                     [--no-timing] [--seed S] [--svg DIR] [--no-color]
//   build/bin/ch19_vision_transformer --load DIR --heads H [--save DIR]
//
// The default run trains tiny models on a slice of the data for a few seconds: the mechanism, not a
// result. --full is the experiment (minutes): the learning rate chosen on validation images, three seeds
// of each model, the test images scored once. compute() fills one named struct, show() prints it,
// draw() writes the figures, self_checks() checks it. With --load, PyTorch's TinyViT files (README's interop
// module, chapters/19_vision_transformer/make_fixtures.py): logits, and with labels.npy the loss and every
// parameter's gradient. Timings change from run to run: --no-timing leaves them out (the docs use it).
#include "19_vision_transformer/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "npy.hpp"
#include "print.hpp"
#include "results.hpp"
#include "rng.hpp"
#include "timing.hpp"  // seconds_since, median

#include <algorithm>
#include <chrono>
#include <cmath>

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  bool full = false;
  int steps = 0;  // 0: the run's default
  int batch = 0;
  int seeds = 0;
  std::string data = kFashionMnistDir;
  bool no_timing = false;
  int heads = 4;
  bool heads_given = false;
};

// --- the two runs -------------------------------------------------------------------------------------

// What a run trains and on what: the default a tiny pair on a slice, --full the experiment.
struct RunSetup {
  std::size_t train_images = 0, validation_images = 0, test_images = 0;  // used of each split
  std::size_t steps = 0, batch = 0, seeds = 0, sweep_steps = 0;
  std::vector<double> learning_rates;  // tried on validation with the first seed, sweep_steps each
  TrainingOptions training;            // lr is the sweep's choice; warm-up, cosine, clip, decay
  TinyVitConfig vit;
  CnnConfig cnn;
};

constexpr std::size_t kValidationSplit = 5000;  // the last 5,000 training images

RunSetup setup_of(const Options& opt) {
  RunSetup s;
  if (opt.full) {
    s.train_images = 60000 - kValidationSplit;
    s.validation_images = kValidationSplit;
    s.test_images = 10000;
    s.steps = 1000;
    s.batch = 64;
    s.seeds = 3;
    s.sweep_steps = 200;
    s.learning_rates = {1e-3, 3e-3, 1e-2};
    s.vit = {1, 28, 7, 32, 4, 64, 2, 10};
    s.cnn.widths = {16, 32, 48};
  } else {
    s.train_images = 3000;
    s.validation_images = 500;
    s.test_images = 1000;
    s.steps = 60;
    s.batch = 32;
    s.seeds = 1;
    s.sweep_steps = 20;
    s.learning_rates = {1e-3, 3e-3};
    s.vit = {1, 28, 7, 16, 4, 32, 2, 10};
    s.cnn.widths = {8, 16, 24};
  }
  if (opt.steps > 0) s.steps = static_cast<std::size_t>(opt.steps);
  if (opt.batch > 0) s.batch = static_cast<std::size_t>(opt.batch);
  if (opt.seeds > 0) s.seeds = static_cast<std::size_t>(opt.seeds);
  s.sweep_steps = std::min(s.sweep_steps, s.steps);
  s.training.steps = s.steps;
  s.training.warmup = s.steps / 10;
  s.training.cosine = true;
  s.training.clip = 1.0;
  s.training.weight_decay = 0.05;
  s.training.decay_all = false;
  return s;
}

// The data every model of the run reads.
struct Data {
  ImageSet train, validation, test;
  PixelScale scale;
  std::vector<std::size_t> validation_indices, test_indices;
  std::size_t train_count_all = 0, test_count_all = 0;
  std::vector<std::size_t> train_classes, test_classes;
};

Data load_data(const Options& opt, const RunSetup& s) {
  Data d;
  const ImageSet all = load_fashion_mnist(opt.data, "train");
  ImageSet test = load_fashion_mnist(opt.data, "t10k");
  if (all.rows != 28 || all.cols != 28 || test.rows != 28 || test.cols != 28 || all.count <= kValidationSplit)
    throw usage_error(
        fmt::format("{}: Fashion-MNIST's images are 28 x 28, at least {} of them for training; these "
                    "are {} x {} ({} of them)",
                    opt.data, kValidationSplit + 1, all.rows, all.cols, all.count));
  d.train_count_all = all.count;
  d.test_count_all = test.count;
  Split split = split_training(all, kValidationSplit);
  d.train = subset(split.train, all_indices(std::min(s.train_images, split.train.count)));
  d.validation = subset(split.validation, all_indices(std::min(s.validation_images, split.validation.count)));
  d.test = subset(test, all_indices(std::min(s.test_images, test.count)));
  d.scale = pixel_statistics(d.train);
  d.validation_indices = all_indices(d.validation.count);
  d.test_indices = all_indices(d.test.count);
  d.train_classes = class_counts(d.train);
  d.test_classes = class_counts(d.test);
  return d;
}

// --- training -----------------------------------------------------------------------------------------

// One model's run: the loss before each step, the validation accuracy after the last, the time per step.
struct ModelRun {
  std::vector<double> losses;
  double validation = 0.0, test = 0.0;
  double seconds_per_step = 0.0;  // the median step
};

struct VitRun {
  TinyVit model;
  ModelRun run;
};
struct CnnRun {
  SmallCnn model;
  ModelRun run;
};

// steps of AdamW on the batches; one step = images, forward, loss, backward, optimizer
template <class Model, class LossAndGradients>
ModelRun train(Model& model, LossAndGradients loss_and_gradients, const Data& d,
               const std::vector<std::vector<std::size_t>>& batches, const TrainingOptions& options) {
  ModelRun r;
  ScheduledAdamW optimizer(options, decays_in_vit_or_cnn);
  std::vector<double> times;
  for (const std::vector<std::size_t>& batch : batches) {
    const auto start = std::chrono::steady_clock::now();
    auto lg = loss_and_gradients(model, images_tensor(d.train, batch, d.scale), labels_of(d.train, batch));
    optimizer.step(named_tensors(model), named_tensors(lg.grads));
    times.push_back(seconds_since(start));
    r.losses.push_back(lg.loss);
  }
  r.seconds_per_step = median(times);
  r.validation =
      accuracy_of(predict(model, d.validation, d.validation_indices, d.scale), d.validation.labels);
  return r;
}

// The seeds: seed s draws both models' weights from its own generator and the batches from another, so
// the ViT and the CNN of a seed read the same images in the same order.
std::vector<std::vector<std::size_t>> batches_of(const RunSetup& s, const Data& d, std::uint64_t seed,
                                                 std::size_t steps) {
  Rng rng(seed * 1000 + 7);
  return batch_order(rng, d.train.count, s.batch, steps);
}

// One model of one seed: `steps` steps at learning rate lr (warm-up a tenth of them) on the seed's batches.
template <class Model, class LossAndGradients>
ModelRun train_at(Model& model, LossAndGradients loss_and_gradients, const RunSetup& s, const Data& d,
                  std::uint64_t seed, double lr, std::size_t steps) {
  TrainingOptions o = s.training;
  o.lr = lr;
  o.steps = steps;
  o.warmup = steps / 10;
  return train(model, loss_and_gradients, d, batches_of(s, d, seed, steps), o);
}

VitRun train_vit(const RunSetup& s, const Data& d, std::uint64_t seed, double lr, std::size_t steps) {
  Rng rng(seed);
  VitRun v{random_tiny_vit(rng, s.vit), {}};
  v.run = train_at(v.model, tiny_vit_loss_and_gradients, s, d, seed, lr, steps);
  return v;
}

CnnRun train_cnn(const RunSetup& s, const Data& d, std::uint64_t seed, double lr, std::size_t steps) {
  Rng rng(seed);
  CnnRun c{random_small_cnn(rng, s.cnn), {}};
  c.run = train_at(c.model, small_cnn_loss_and_gradients, s, d, seed, lr, steps);
  return c;
}

// --- everything the program shows -----------------------------------------------------------------------

struct Sweep {
  std::vector<double> vit_validation, cnn_validation;  // per learning rate
  double vit_lr = 0.0, cnn_lr = 0.0;                   // the choice: the best validation accuracy
};

struct HeadAnalysis {
  std::vector<std::vector<double>> distance;  // [block][head], pixels, over the analysed test images
  std::vector<std::vector<double>> initial;   // the same for the model before training (its seed's draw)
  SimilarityByPlace initial_by_place;         // the position embeddings before training
  double uniform = 0.0;                       // uniform attention's
  Matrix similarity;                          // (n, n) cosine similarity of the position embeddings
  SimilarityByPlace by_place;
  std::vector<std::size_t> shown, misclassified;  // test images drawn with the class token's attention
  std::vector<Matrix> shown_attention, misclassified_attention;
  std::vector<std::size_t> predictions;  // of the analysed test images
  double max_row_sum_error = 0.0;        // attention rows sum to 1
};

struct Example {
  std::uint64_t seed = 0;  // the first seed; seed k of the run is seed + k
  RunSetup setup;
  Data data;
  std::size_t vit_parameters = 0, cnn_parameters = 0;
  double vit_multiply_adds = 0.0, cnn_multiply_adds = 0.0;
  Sweep sweep;
  std::vector<VitRun> vits;
  std::vector<CnnRun> cnns;
  std::vector<double> vit_test, cnn_test;  // per seed: the test images, scored once
  HeadAnalysis heads;
  double gradient_error = 0.0;  // the TinyViT's analytic gradients against central differences
  bool same_batches = false;
};

constexpr std::size_t kAnalysed = 500;  // test images the heads are measured on

// patch.weight's and cls's gradients against central differences, on a tiny TinyViT and two images
double tiny_vit_gradient_error() {
  Rng rng(19);
  TinyVitConfig c{1, 4, 2, 4, 2, 6, 1, 3};
  TinyVit model = random_tiny_vit(rng, c);
  Tensor4 images = Tensor4::from_shape({2, 1, 4, 4});
  for (double& x : images) x = rng.normal();
  const std::vector<std::size_t> labels = {2, 0};
  const TinyVit grads = tiny_vit_loss_and_gradients(model, images, labels).grads;
  TinyVit g = grads;
  std::vector<NamedTensor> params = named_tensors(model), analytic = named_tensors(g);
  double worst = 0.0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    const std::vector<double> numerical = numerical_gradient_in_place(
        params[k].data, params[k].size,
        [&] { return tiny_vit_loss_and_gradients(model, images, labels).loss; }, 1e-6);
    const std::vector<double> exact = flat_entries(analytic[k]);
    for (std::size_t i = 0; i < exact.size(); ++i)
      worst = std::max(worst, std::abs(exact[i] - numerical[i]) / std::max(1.0, std::abs(numerical[i])));
  }
  return worst;
}

HeadAnalysis analyse_heads(const TinyVit& model, const TinyVit& initial, const Data& d) {
  HeadAnalysis h;
  const std::vector<std::size_t> analysed = all_indices(std::min(kAnalysed, d.test.count));
  const Tensor4 images = images_tensor(d.test, analysed, d.scale);
  const TinyVitForward f = tiny_vit_forward(model, images);
  // the control: the same measures on the untrained model
  h.initial = attention_distances(initial, tiny_vit_forward(initial, images));
  h.initial_by_place = similarity_by_place(position_similarity(initial), initial.config.grid());
  h.distance = attention_distances(model, f);
  h.uniform = uniform_attention_distance(model.config);
  h.similarity = position_similarity(model);
  h.by_place = similarity_by_place(h.similarity, model.config.grid());
  h.predictions = argmax_rows(f.logits);
  for (const EncoderLayerForward& b : f.blocks) {
    const Tensor4& w = b.saved.attention.weights;
    const Tensor3 sums = xt::sum(w, {3});
    h.max_row_sum_error = std::max(h.max_row_sum_error, xt::amax(xt::abs(sums - 1.0))());
  }
  for (std::size_t i = 0; i < analysed.size() && (h.shown.size() < 4 || h.misclassified.size() < 4); ++i) {
    const bool right = h.predictions[i] == d.test.labels[i];
    if (right && h.shown.size() < 4) {
      h.shown.push_back(i);
      h.shown_attention.push_back(class_attention(f, i, model.config.grid()));
    } else if (!right && h.misclassified.size() < 4) {
      h.misclassified.push_back(i);
      h.misclassified_attention.push_back(class_attention(f, i, model.config.grid()));
    }
  }
  return h;
}

Example compute(const Options& opt) {
  Example e;
  e.seed = opt.common.seed;
  e.setup = setup_of(opt);
  const RunSetup& s = e.setup;
  e.data = load_data(opt, s);
  const Data& d = e.data;
  // 1. the two models' sizes and work
  {
    Rng rng(opt.common.seed);
    e.vit_parameters = parameter_count(random_tiny_vit(rng, s.vit));
    e.cnn_parameters = parameter_count(random_small_cnn(rng, s.cnn));
  }
  e.vit_multiply_adds = vit_step_multiply_adds(s.vit, s.batch);
  e.cnn_multiply_adds = cnn_step_multiply_adds(s.cnn, s.batch);
  e.gradient_error = tiny_vit_gradient_error();
  // 2. the learning rate of each model, chosen on the validation images (the first seed's batches, sweep steps)
  const std::size_t lrs = s.learning_rates.size();
  e.sweep.vit_validation.assign(lrs, 0.0);
  e.sweep.cnn_validation.assign(lrs, 0.0);
  const std::uint64_t seed0 = opt.common.seed;
  // the CNN's jobs first: they take longest, so the two threads finish closer together
  run_on_two_threads(2 * lrs, [&](std::size_t job) {
    if (job < lrs)
      e.sweep.cnn_validation[job] =
          train_cnn(s, d, seed0, s.learning_rates[job], s.sweep_steps).run.validation;
    else
      e.sweep.vit_validation[job - lrs] =
          train_vit(s, d, seed0, s.learning_rates[job - lrs], s.sweep_steps).run.validation;
  });
  const auto best = [&](const std::vector<double>& v) {
    return s.learning_rates[static_cast<std::size_t>(std::max_element(v.begin(), v.end()) - v.begin())];
  };
  e.sweep.vit_lr = best(e.sweep.vit_validation);
  e.sweep.cnn_lr = best(e.sweep.cnn_validation);
  // 3. every seed of both models, the full steps, on two threads
  e.vits.resize(s.seeds);
  e.cnns.resize(s.seeds);
  run_on_two_threads(2 * s.seeds, [&](std::size_t job) {
    if (job < s.seeds)
      e.cnns[job] = train_cnn(s, d, seed0 + job, e.sweep.cnn_lr, s.steps);
    else
      e.vits[job - s.seeds] = train_vit(s, d, seed0 + job - s.seeds, e.sweep.vit_lr, s.steps);
  });
  e.same_batches = batches_of(s, d, seed0, s.steps) == batches_of(s, d, seed0, s.steps);
  // 4. the test images, scored once, after every choice was made
  for (std::size_t k = 0; k < s.seeds; ++k) {
    e.vit_test.push_back(
        accuracy_of(predict(e.vits[k].model, d.test, d.test_indices, d.scale), d.test.labels));
    e.cnn_test.push_back(
        accuracy_of(predict(e.cnns[k].model, d.test, d.test_indices, d.scale), d.test.labels));
  }
  // 5. what the first seed's ViT learned, on test images
  Rng initial_rng(seed0);  // train_vit's first draw: the first seed's model before training
  e.heads = analyse_heads(e.vits[0].model, random_tiny_vit(initial_rng, s.vit), d);
  return e;
}

// --- printing -------------------------------------------------------------------------------------------

// Accuracies as "85.3% ± 0.4" (mean, and the sample sd over seeds in points; the mean alone for one seed).
std::string percent_sd(const std::vector<double>& x) {
  const Spread s = spread(x);
  return x.size() < 2 ? percent(s.mean) : fmt::format("{} ± {:.1f}", percent(s.mean), 100.0 * s.sd);
}
std::string points_sd(const std::vector<double>& x) {
  const Spread s = spread(x);
  return x.size() < 2 ? fmt::format("{:+.1f}", 100.0 * s.mean)
                      : fmt::format("{:+.1f} ± {:.1f}", 100.0 * s.mean, 100.0 * s.sd);
}

std::string counts_line(const std::vector<std::size_t>& counts) {
  std::string line;
  for (std::size_t k = 0; k < counts.size(); ++k)
    line += fmt::format("{}{} {}", k ? ", " : "", kFashionClasses[k], counts[k]);
  return line;
}

void show_data(const Example& e) {
  const Data& d = e.data;
  print_section("1. The data: Fashion-MNIST from Debian's dataset-fashion-mnist");
  fmt::print("training file: {} images of 28 x 28; test file: {} images\n", d.train_count_all,
             d.test_count_all);
  fmt::print("split: the last {} training images are the validation images (every choice is made on them);\n",
             kValidationSplit);
  fmt::print("       the test images are scored once, at the end\n");
  fmt::print("this run uses {} training, {} validation and {} test images\n", d.train.count,
             d.validation.count, d.test.count);
  fmt::print("training classes: {}\n", counts_line(d.train_classes));
  fmt::print("test classes:     {}\n", counts_line(d.test_classes));
  fmt::print("pixels: x = (p/255 - {:.4f}) / {:.4f}, the training images' mean and sd\n", d.scale.mean,
             d.scale.sd);
}

void show_models(const Example& e, const Options& opt) {
  const RunSetup& s = e.setup;
  print_section("2. The two models (about the same number of parameters)");
  fmt::print(
      "TinyViT: {} x {} patches of {} x {} (n = {}) + a class token, E = {}, {} heads, d_ff = {}, {} blocks "
      "(pre-norm, GELU)\n",
      s.vit.grid(), s.vit.grid(), s.vit.patch, s.vit.patch, s.vit.patches(), s.vit.d_model, s.vit.n_heads,
      s.vit.d_ff, s.vit.n_layers);
  fmt::print(
      "CNN:     3 x 3 convolutions of stride 2, widths {} / {} / {}, ReLU, global average pooling, a linear "
      "head\n",
      s.cnn.widths[0], s.cnn.widths[1], s.cnn.widths[2]);
  fmt::print("{:<9} {:>11} {:>26}{}\n", "model", "parameters", "multiply-adds per step",
             opt.no_timing ? "" : "   seconds per step (median, first seed)");
  fmt::print("{:<9} {:>11} {:>26.3g}{}\n", "TinyViT", e.vit_parameters, e.vit_multiply_adds,
             opt.no_timing ? "" : fmt::format("   {:.4f}", e.vits[0].run.seconds_per_step));
  fmt::print("{:<9} {:>11} {:>26.3g}{}\n", "CNN", e.cnn_parameters, e.cnn_multiply_adds,
             opt.no_timing ? "" : fmt::format("   {:.4f}", e.cnns[0].run.seconds_per_step));
  fmt::print(
      "(a step: a batch of {} images, forward, backward and AdamW; backward counted as twice the forward)\n",
      s.batch);
  if (opt.no_timing) fmt::print("timings: left out (--no-timing)\n");
}

void show_sweep(const Example& e) {
  const RunSetup& s = e.setup;
  print_section(fmt::format("3. The learning rate, chosen on the validation images ({} steps, seed {})",
                            s.sweep_steps, e.seed));
  fmt::print("{:>8} {:>16} {:>16}\n", "lr", "TinyViT val acc", "CNN val acc");
  for (std::size_t i = 0; i < s.learning_rates.size(); ++i)
    fmt::print("{:>8.0e} {:>16} {:>16}\n", s.learning_rates[i], percent(e.sweep.vit_validation[i]),
               percent(e.sweep.cnn_validation[i]));
  fmt::print(
      "chosen: TinyViT lr = {:.0e}, CNN lr = {:.0e}; warm-up {} steps, cosine decay to lr/10, clip 1, weight "
      "decay 0.05 on matrices\n",
      e.sweep.vit_lr, e.sweep.cnn_lr, s.training.warmup);
}

void show_training(const Example& e) {
  const RunSetup& s = e.setup;
  print_section(
      fmt::format("4. Training: {} steps of {} images, the same batches for both models", s.steps, s.batch));
  const std::size_t every = std::max<std::size_t>(1, s.steps / 6);
  fmt::print("{:>6}", "step");
  for (std::size_t k = 0; k < s.seeds; ++k)
    fmt::print(" {:>10} {:>10}", fmt::format("ViT s{}", e.seed + k), fmt::format("CNN s{}", e.seed + k));
  fmt::print("   (mean loss of the {} steps before)\n", every);
  for (std::size_t t = every; t <= s.steps; t += every) {
    fmt::print("{:>6}", t);
    for (std::size_t k = 0; k < s.seeds; ++k) {
      auto mean_to = [&](const std::vector<double>& l) {
        double sum = 0.0;
        for (std::size_t i = t - every; i < t; ++i) sum += l[i];
        return sum / static_cast<double>(every);
      };
      fmt::print(" {:>10.4f} {:>10.4f}", mean_to(e.vits[k].run.losses), mean_to(e.cnns[k].run.losses));
    }
    fmt::print("\n");
  }
  std::vector<double> vv, cv;
  for (std::size_t k = 0; k < s.seeds; ++k) {
    vv.push_back(e.vits[k].run.validation);
    cv.push_back(e.cnns[k].run.validation);
  }
  fmt::print("validation accuracy after the last step: TinyViT {}, CNN {}\n", percent_sd(vv), percent_sd(cv));
}

void show_test(const Example& e) {
  print_section(fmt::format("5. The test images, scored once: accuracy, {} seed{}", e.setup.seeds,
                            e.setup.seeds == 1 ? "" : "s (mean ± sd)"));
  std::string vs, cs;
  for (std::size_t k = 0; k < e.setup.seeds; ++k) {
    vs += fmt::format("{}{}", k ? ", " : "", percent(e.vit_test[k]));
    cs += fmt::format("{}{}", k ? ", " : "", percent(e.cnn_test[k]));
  }
  fmt::print("TinyViT: {}   ({})\n", percent_sd(e.vit_test), vs);
  fmt::print("CNN:     {}   ({})\n", percent_sd(e.cnn_test), cs);
  std::vector<double> gap;
  for (std::size_t k = 0; k < e.setup.seeds; ++k) gap.push_back(e.vit_test[k] - e.cnn_test[k]);
  fmt::print("TinyViT − CNN, seed by seed (same batches): {} points\n", points_sd(gap));
}

void show_heads(const Example& e) {
  const HeadAnalysis& h = e.heads;
  print_section(fmt::format("6. What the heads learned (seed {}'s TinyViT, {} test images)", e.seed,
                            std::min(kAnalysed, e.data.test.count)));
  fmt::print("mean attention distance in pixels (mean_attention_distance, the exercise), per head;\n");
  fmt::print("uniform attention gives {:.2f}; \"before\" is the same model before training\n", h.uniform);
  const auto row = [](const std::vector<double>& heads) {
    std::string line;
    for (double x : heads) line += fmt::format(" {:6.2f}", x);
    double sum = 0.0;
    for (double x : heads) sum += x;
    return line + fmt::format("   mean {:.2f}", sum / static_cast<double>(heads.size()));
  };
  for (std::size_t l = 0; l < h.distance.size(); ++l) {
    fmt::print("block {} trained:{}\n", l, row(h.distance[l]));
    fmt::print("block {} before: {}\n", l, row(h.initial[l]));
  }
  fmt::print("the mean cosine similarity of two patches' position embeddings (n = {} patches):\n",
             e.setup.vit.patches());
  fmt::print("  trained: same row {:.3f}, same column {:.3f}, neither {:.3f}\n", h.by_place.same_row,
             h.by_place.same_column, h.by_place.elsewhere);
  fmt::print("  before:  same row {:.3f}, same column {:.3f}, neither {:.3f}\n", h.initial_by_place.same_row,
             h.initial_by_place.same_column, h.initial_by_place.elsewhere);
  fmt::print("class token's attention in the last block (mean over heads), drawn for test images");
  for (std::size_t i : h.shown) fmt::print(" {}", i);
  fmt::print("\nand misclassified test images");
  for (std::size_t i : h.misclassified)
    fmt::print(" {} ({} as {})", i, kFashionClasses[e.data.test.labels[i]],
               kFashionClasses[h.predictions[i]]);
  fmt::print("\n");
}

// --- figures ----------------------------------------------------------------------------------------------

Tensor3 rgb_of(const ImageSet& set, std::size_t i) {
  Tensor3 t = Tensor3::from_shape({3, set.rows, set.cols});
  for (std::size_t ch = 0; ch < 3; ++ch)
    for (std::size_t y = 0; y < set.rows; ++y)
      for (std::size_t x = 0; x < set.cols; ++x)
        t(ch, y, x) = set.pixels[i * set.rows * set.cols + y * set.cols + x] / 255.0;
  return t;
}

Vector flat(const Matrix& m) {
  return xt::flatten(m);
}

void draw(const Example& e, Figures& figures) {
  const HeadAnalysis& h = e.heads;
  const TinyVitConfig& c = e.setup.vit;
  // the losses of the first seed, both models
  std::vector<double> steps;
  for (std::size_t t = 0; t < e.setup.steps; ++t) steps.push_back(static_cast<double>(t + 1));
  figures.line_plot(
      "19-loss.svg", steps, {{"TinyViT", e.vits[0].run.losses}, {"CNN", e.cnns[0].run.losses}},
      {fmt::format("Training loss, seed {} (same batches)", e.seed), "step", "cross-entropy (nats)"});
  // mean attention distance: blocks x heads
  Matrix distance = Matrix::from_shape({h.distance.size(), c.n_heads});
  for (std::size_t l = 0; l < h.distance.size(); ++l)
    for (std::size_t k = 0; k < c.n_heads; ++k) distance(l, k) = h.distance[l][k];
  figures.heatmap(
      "19-attention-distance.svg", distance,
      heatmap_spec(fmt::format("Mean attention distance (pixels; uniform {:.1f})", h.uniform),
                   numbered("block ", h.distance.size()), numbered("head ", c.n_heads), "block", "head")
          .with_range(0.0, 2.0 * h.uniform)
          .with_decimals(1));
  // position embeddings' cosine similarity, patch against patch
  figures.heatmap("19-position-similarity.svg", h.similarity,
                  heatmap_spec("Position embeddings: cosine similarity", numbered("p", c.patches()),
                               numbered("p", c.patches()), "patch", "patch")
                      .with_range(-1.0, 1.0)
                      .with_decimals(-1));
  // the class token's attention on test images, right and wrong
  const auto overlay = [&](const std::string& file, std::size_t i, const Matrix& a, const std::string& what) {
    const Vector w = flat(a);
    const std::size_t top = static_cast<std::size_t>(std::max_element(w.begin(), w.end()) - w.begin());
    figures.patch_overlay(
        file, rgb_of(e.data.test, i), w,
        {fmt::format("Test image {}: {} ({})", i, kFashionClasses[e.data.test.labels[i]], what), c.patch, top,
         "the image", "class token's attention, last block (outlined: most)"});
  };
  for (std::size_t k = 0; k < h.shown.size() && k < 2; ++k)
    overlay(fmt::format("19-class-attention-{}.svg", k), h.shown[k], h.shown_attention[k], "right");
  for (std::size_t k = 0; k < h.misclassified.size() && k < 2; ++k)
    overlay(fmt::format("19-misclassified-{}.svg", k), h.misclassified[k], h.misclassified_attention[k],
            fmt::format("taken for {}", kFashionClasses[h.predictions[h.misclassified[k]]]));
}

SelfChecks self_checks(const Example& e) {
  print_section("Self-checks");
  SelfChecks checks;
  const Data& d = e.data;
  std::size_t counted = 0;
  for (std::size_t n : d.train_classes) counted += n;
  checks.expect("the class counts add up to the training images", counted == d.train.count,
                fmt::format("{}", counted));
  checks.below("TinyViT's gradients = central differences (every parameter, a tiny model)", e.gradient_error,
               1e-6);
  checks.below("attention rows sum to 1 (every block, head and test image analysed)",
               e.heads.max_row_sum_error, 1e-12);
  checks.expect("both models read the same batches (drawn from the seed, not the model)", e.same_batches);
  const double ratio = static_cast<double>(e.vit_parameters) / static_cast<double>(e.cnn_parameters);
  checks.expect("the two models' sizes are within 1.5 times of each other", ratio > 1 / 1.5 && ratio < 1.5,
                fmt::format("ratio {:.2f}", ratio));
  return checks;
}

// The work of a run, estimated before it starts: each step of both models, the sweep, and the
// evaluations, in multiply-adds of plain loops (the convolutions) and BLAS (the ViT).
Cost cost_of(const RunSetup& s) {
  const double runs_steps = static_cast<double>(s.seeds * s.steps + s.learning_rates.size() * s.sweep_steps);
  const double vit = vit_step_multiply_adds(s.vit, s.batch) * runs_steps;
  const double cnn = cnn_step_multiply_adds(s.cnn, s.batch) * runs_steps;
  const double bytes =
      8.0 * s.batch * (s.vit.patches() + 1) * (30.0 * s.vit.d_ff * s.vit.n_layers) + 60000.0 * 28 * 28 * 2;
  return {bytes, 0.1 * vit + 1.0 * cnn};
}

int run_default(const Options& opt) {
  const RunSetup s = setup_of(opt);
  if (s.batch > s.train_images)
    throw usage_error(
        fmt::format("--batch {} is more than the {} training images of the run", s.batch, s.train_images));
  require_within_limits(cost_of(s),
                        fmt::format("--steps {} --batch {} --seeds {}", s.steps, s.batch, s.seeds),
                        opt.full ? Limits{memory_limit_bytes, 2000 * work_limit} : chapter_limits);
  print_title("Chapter 19 · A vision transformer");
  print_config("data", fmt::format("{}/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte.gz (Debian's "
                                   "dataset-fashion-mnist)",
                                   opt.data));
  print_config("run", opt.full ? "--full: the experiment, the whole training split, three seeds"
                               : "tiny models on a slice of the data, one seed: the mechanism, not a result "
                                 "(--full is the experiment)");
  print_config("seed", std::to_string(opt.common.seed));
  const Example e = compute(opt);
  show_data(e);
  show_models(e, opt);
  show_sweep(e);
  show_training(e);
  show_test(e);
  show_heads(e);
  Figures figures(opt.common);
  draw(e, figures);
  const SelfChecks checks = self_checks(e);
  figures.report();
  return checks.exit_code();
}

// ---- --load: PyTorch's TinyViT -------------------------------------------------------------------------------

// Without labels.npy the logits (B, K); with it also the mean cross-entropy and the gradient of every
// state_dict entry, as PyTorch's loss.backward() leaves them.
int run_loaded(const Options& opt) {
  if (opt.full || opt.steps > 0 || opt.batch > 0 || opt.seeds > 0 || opt.data != kFashionMnistDir)
    throw usage_error("--full, --steps, --batch, --seeds and --data train on Fashion-MNIST; not with --load");
  const std::string& dir = opt.common.load_dir;
  const Tensor4 images = load_vit_images(dir);
  TinyVit model = load_tiny_vit(dir, images.shape(2), static_cast<std::size_t>(opt.heads));
  const TinyVitConfig& c = model.config;
  const std::size_t B = images.shape(0);
  if (images.shape(1) != c.channels)
    throw usage_error(fmt::format("images.npy has {} channels but patch.weight.npy expects {}",
                                  images.shape(1), c.channels));
  const bool with_labels = npy_exists(dir, "labels");
  std::vector<std::size_t> labels;
  if (with_labels) labels = load_vit_labels(dir, B, c.classes);
  std::vector<std::string> outputs = {"logits"};
  if (with_labels) {
    outputs = tensor_names(named_tensors(model), ".grad");
    outputs.insert(outputs.end(), {"logits", "loss"});
  }
  require_no_unread_files(dir, outputs,
                          with_labels ? "a TinyViT's files with labels.npy" : "a TinyViT's files");
  // per block and token a dozen (E) rows, the feed-forward's (F) rows and the attention weights; the
  // products run in BLAS (blas_multiply_add each)
  const double L = static_cast<double>(c.patches() + 1);
  require_within_limits({8.0 * B * L * c.n_layers * (16.0 * c.d_model + 4.0 * c.d_ff + 2.0 * c.n_heads * L),
                         blas_multiply_add * vit_step_multiply_adds(c, B)},
                        "the --load files");
  print_title("Chapter 19 · A vision transformer — a PyTorch TinyViT's files");
  print_config("loaded",
               fmt::format("{}: B = {}, C = {}, S = {}, P = {} (n = {}), E = {}, H = {}, F = {}, {} "
                           "block(s), K = {}",
                           dir, B, c.channels, c.image, c.patch, c.patches(), c.d_model, c.n_heads, c.d_ff,
                           c.n_layers, c.classes));
  SelfChecks checks;
  if (!with_labels) {
    const TinyVitForward f = tiny_vit_forward(model, images);
    print_section("logits (B, K)");
    report_results({shown_matrix("logits", f.logits, "logits")}, opt.common.save_dir);
    print_section("Self-checks");
    checks.expect("the logits are finite", true);
    return checks.exit_code();
  }
  TinyVitLossAndGradients r = tiny_vit_loss_and_gradients(model, images, labels);
  print_section("logits (B, K) and the mean cross-entropy against labels.npy");
  std::vector<NamedResult> results = {
      shown_matrix("logits", r.forward.logits, "logits"), scalar_result("loss", r.loss, [&r] {
        fmt::print("loss = {:.12f}\n", r.loss);
        fmt::print("and the gradient of every state_dict entry (--save DIR writes them as <key>.grad.npy)\n");
      })};
  append_named(results, named_tensors(r.grads), ".grad");
  report_results(results, opt.common.save_dir);
  print_section("Self-checks");
  // pos is added to every token: its gradient's rows add up to the gradient of the tokens, and the class
  // row of pos gets exactly what cls gets
  checks.below("pos.grad's row 0 = cls.grad (both are added to the class token)",
               xt::amax(xt::abs(xt::view(r.grads.pos, 0, xt::all()) - xt::view(r.grads.cls, 0, xt::all())))(),
               1e-15);
  return checks.exit_code();
}

int run(const Options& opt) {
  return run_training_program(opt, opt.heads_given,
                              "--heads describes --load files; the trained models' sizes are fixed",
                              run_loaded, run_default);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 19: A vision transformer", "ch19_vision_transformer"};
  Options opt;
  app.add_flag("--full", opt.full,
               "The experiment: the whole training split, larger models, three seeds (minutes)");
  add_size_option(app, "--steps", opt.steps, "Training steps of each model (60; 1000 with --full)", 100000);
  add_size_option(app, "--batch", opt.batch, "Images per batch (32; 64 with --full)", 1, 1024,
                  "at most 1024 images a step");
  app.add_option("--seeds", opt.seeds, "Seeds of each model (1; 3 with --full)")
      ->check(whole_number_in(1, 10));
  app.add_option("--data", opt.data,
                 "The directory of the Fashion-MNIST files (default /usr/share/datasets/fashion-mnist)");
  app.add_flag("--no-timing", opt.no_timing, "Leave the timings out (their numbers change from run to run)");
  add_size_option(app, "--heads", opt.heads, "Heads H of the --load files", 4096);
  add_common_options(app, opt.common, /*interop=*/true);
  return run_program(app, argc, argv, opt.common, [&] {
    opt.heads_given = app.count("--heads") > 0;
    return run(opt);
  });
}
