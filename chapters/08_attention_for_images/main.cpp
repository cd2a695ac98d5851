// Chapter 08 — attention for images: an image as a set of vectors, patches and their embedding
// (ViT), 2-D positions, attention over the patches of a small synthetic picture drawn back onto the
// picture, and what attention over a whole feature map costs.
//
//   build/bin/ch08_attention_for_images [--size N] [--patch P] [--seed S] [--svg DIR] [--no-color]
#include "cli.hpp"
#include "contracts/03_self_attention.hpp"
#include "contracts/07_positional_encoding.hpp"
#include "given/08_attention_for_images.hpp"
#include "print.hpp"
#include "rng.hpp"
#include "svg.hpp"

using namespace course;

namespace {

struct Options {
  CommonOptions common;
  int size = 16;  // the picture is size x size pixels, RGB
  int patch = 4;  // P
};

constexpr std::size_t kDModel = 12;  // 0-2 colour, 3 a random feature, 4-11 the 2-D position

// What a run needs, estimated from its sizes before it starts, for an n x n picture in N = (n/P)²
// patches (the cost constants are in cli.hpp). Alive at the peak: a few (N, N) attention matrices
// and copies of the picture (3 n²). The work: the picture, its patches and their embedding (about
// 45 n² multiply-adds), attention over the N patches (24 N² multiply-adds, N² exponentials, four
// (N, N) matrices in fresh memory), printing the query's N weights and, with --svg, drawing the
// picture's 2 n² pixels.
Cost cost_of(const Options& opt) {
  const double n = opt.size, P = opt.patch, N = (n / P) * (n / P);
  const double figure = opt.common.svg_dir.empty() ? 0.0 : 2.0 * n * n * svg_cell;
  return {8.0 * 4.0 * N * N + 8.0 * 6.0 * 3.0 * n * n + (figure > 0 ? 200.0 * n * n : 0.0),
          45.0 * n * n + 3.0 * P * P * normal_draw + N * N * (24.0 + math_call + 4.0 * fresh_double) +
              N * printed_number + figure};
}

// 1. A 5 x 10 RGB picture is 50 tokens of size 3.
void show_pixels_as_tokens() {
  print_section("1. An image is a set of vectors");
  Tensor3 image = Tensor3::from_shape({3, 5, 10});
  for (std::size_t y = 0; y < 5; ++y)
    for (std::size_t x = 0; x < 10; ++x) {
      image(0, y, x) = x / 9.0;        // red grows to the right
      image(1, y, x) = y / 4.0;        // green grows downwards
      image(2, y, x) = 1.0 - x / 9.0;  // blue fades to the right
    }
  const Matrix tokens = image_to_tokens(image);
  fmt::print("A 5 x 10 RGB picture, channels first as in PyTorch: image {} (C, H, W).\n", shape_of(image));
  fmt::print(
      "One token per pixel, holding its 3 channels: tokens {} (H*W, C); token y*W + x is pixel (y, x).\n",
      shape_of(tokens));
  print_matrix("the first 4 tokens (pixels (0,0) .. (0,3))",
               Matrix(xt::view(tokens, xt::range(0, 4), xt::all())), {"t0", "t1", "t2", "t3"},
               {"R", "G", "B"}, 3);
  fmt::print(
      "Attention over these 50 tokens would compare every pixel with every pixel: 50 x 50 = 2500 scores.\n"
      "Patches of 5 x 5 turn the same picture into {} tokens of {} = 3 x 5 x 5 numbers.\n",
      image_to_patches(image, 5).shape(0), image_to_patches(image, 5).shape(1));
}

// The synthetic picture: sky above, grass below, a red house on the grass and a red sun.
Tensor3 make_picture(std::size_t n) {
  Tensor3 img = Tensor3::from_shape({3, n, n});
  const double rgb[4][3] = {{0.55, 0.75, 0.95}, {0.25, 0.65, 0.25}, {0.85, 0.15, 0.10}, {0.90, 0.18, 0.10}};
  for (std::size_t y = 0; y < n; ++y)
    for (std::size_t x = 0; x < n; ++x) {
      int kind = y < n / 2 ? 0 : 1;                                                 // sky or grass
      if (y >= n / 2 && y < 3 * n / 4 && x >= n / 4 && x < 3 * n / 4) kind = 2;     // the house
      if (y < n / 4 && x >= 3 * n / 4) kind = 3;                                    // the sun
      const double shade = 0.04 * static_cast<double>((x * 7 + y * 3) % 5) - 0.08;  // a little texture
      for (std::size_t c = 0; c < 3; ++c) img(c, y, x) = std::clamp(rgb[kind][c] + shade, 0.0, 1.0);
    }
  return img;
}

// The embedding matrix (C*P*P, d_model): the first three outputs average each colour channel over
// the patch (a hand-made "colour detector"), the fourth is a small random feature, and the last
// eight stay 0: they are left for the position.
Matrix make_embedding(std::size_t P, Rng& rng) {
  Matrix w = xt::zeros<double>({3 * P * P, kDModel});
  const Matrix random = 0.02 * rng.normal_matrix(3 * P * P, 1);
  for (std::size_t i = 0; i < 3 * P * P; ++i) w(i, 3) = random(i, 0);
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < P * P; ++i) w(c * P * P + i, c) = 1.0 / (P * P);
  return w;
}

// 2-D positions: the first half of the features encode the patch's row, the second half its column,
// each with chapter 07's sinusoidal encoding.
Matrix positions_2d(std::size_t rows, std::size_t cols, std::size_t d) {
  const Matrix pr = sinusoidal_encoding(rows, d / 2), pc = sinusoidal_encoding(cols, d / 2);
  Matrix pos = Matrix::from_shape({rows * cols, d});
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c)
      for (std::size_t j = 0; j < d / 2; ++j) {
        pos(r * cols + c, j) = pr(r, j);
        pos(r * cols + c, d / 2 + j) = pc(c, j);
      }
  return pos;
}

struct Scene {
  Tensor3 image;
  std::size_t grid = 0;  // patches per side
  Matrix weights;        // (N, N) attention over the patches
  std::size_t query = 0;
};

// 2-4. Patches, their embedding, 2-D positions and attention over them.
Scene show_patches(const Options& opt, Rng& rng) {
  const std::size_t n = opt.size, P = opt.patch, g = n / P;
  Scene s;
  s.image = make_picture(n);
  s.grid = g;
  print_section(fmt::format("2. Patches: a {} x {} picture in {} x {} patches of {} x {}", n, n, g, g, P, P));
  const Matrix patches = image_to_patches(s.image, P);
  fmt::print(
      "image {} -> image_to_patches -> {}: {} patches, each C x P x P = 3 x {} x {} = {} numbers,\n"
      "flattened in the order (channel, y, x), as a Conv2d's weight is.\n",
      shape_of(s.image), shape_of(patches), patches.shape(0), P, P, patches.shape(1));

  print_section("3. Patch embedding and 2-D positions");
  const Matrix w = make_embedding(P, rng);
  // b subtracts the picture's mean colour, so features 0-2 say how a patch differs from the average.
  Vector b = xt::zeros<double>({kDModel});
  for (std::size_t c = 0; c < 3; ++c) b(c) = -xt::mean(xt::view(s.image, c, xt::all(), xt::all()))();
  const Matrix tokens = patch_embedding(patches, w, b);
  Matrix pos = xt::zeros<double>({g * g, kDModel});
  xt::view(pos, xt::all(), xt::range(4, 12)) = positions_2d(g, g, 8);
  fmt::print(
      "tokens = patches W + b: {} x {} -> {}. W averages each colour channel into features 0-2 and b\n"
      "subtracts the picture's mean colour (a hand-made colour detector; ViT learns W and b);\n"
      "feature 3 is a small random one.\n",
      shape_of(patches), shape_of(w), shape_of(tokens));
  fmt::print(
      "2-D positions: features 4-7 get sinusoidal_encoding(row), 8-11 sinusoidal_encoding(column), so\n"
      "patches in the same row share half their position code. x = tokens + 0.3 * positions.\n");
  const Matrix x = tokens + 0.3 * pos;
  Labels names;
  for (std::size_t i = 0; i < 4; ++i) names.push_back(fmt::format("patch ({},{})", i / g, i % g));
  print_matrix("x, the first 4 patches", Matrix(xt::view(x, xt::range(0, 4), xt::all())), names, {}, 3);

  print_section("4. Self-attention over the patches");
  // Queries and keys compare colour mostly (x 5), values pass the tokens on.
  Matrix w_qk = xt::zeros<double>({kDModel, kDModel});
  for (std::size_t j = 0; j < kDModel; ++j) w_qk(j, j) = j < 3 ? 5.0 : 1.0;
  const AttentionResult r = self_attention(x, w_qk, w_qk, xt::eye<double>(kDModel));
  s.weights = r.weights;
  s.query = (3 * g / 4 - 1) * g + g / 4;  // a patch of the house
  fmt::print(
      "W_q = W_k = diag(5, 5, 5, 1, ..., 1): the scores compare colours strongly, positions weakly.\n");
  Labels rows_l, cols_l;
  for (std::size_t i = 0; i < g; ++i) rows_l.push_back(fmt::format("row {}", i));
  for (std::size_t i = 0; i < g; ++i) cols_l.push_back(fmt::format("col {}", i));
  const Matrix row = xt::reshape_view(xt::view(r.weights, s.query, xt::all()), {g, g});
  print_heatmap(fmt::format("weights of the query patch ({},{}) (the red house), laid out as the picture",
                            s.query / g, s.query % g),
                row, rows_l, cols_l);
  fmt::print(
      "The house patch attends to the other red patches — the rest of the house and the sun in the\n"
      "far corner — whatever their distance: attention links patches by content, not by locality.\n");
  return s;
}

// 5. What attention over a whole feature map costs.
struct Cost {
  double tokens, entries, bytes32, map_bytes32;
};

// One multi-head self-attention layer over n tokens of C channels, counted from the shapes of its
// products: `heads` heads whose queries and keys are d_qk wide and whose values are d_v wide (each
// head's own width), C input channels, output projected back to C, with biases.
//   Q = x W_q + b_q  (n, C) x (C, heads·d_qk)      K likewise, V: (n, C) x (C, heads·d_v)
//   scores_h = Q_h K_h^T  (n, d_qk) x (d_qk, n)    out_h = weights_h V_h  (n, n) x (n, d_v)
//   output = concat(out_h) W_o + b_o  (n, heads·d_v) x (heads·d_v, C)
struct LayerCount {
  double params, projections, scores, mixing;
  double total() const { return projections + scores + mixing; }
};

LayerCount count_layer(double n, double C, double heads, double d_qk, double d_v) {
  LayerCount c;
  c.params = 2 * (C * heads * d_qk + heads * d_qk) + (C * heads * d_v + heads * d_v) + (heads * d_v * C + C);
  c.projections = 2 * n * C * heads * d_qk + n * C * heads * d_v + n * heads * d_v * C;
  c.scores = heads * n * d_qk * n;
  c.mixing = heads * n * n * d_v;
  return c;
}

Cost show_cost() {
  print_section("5. Attention over every position of a 64 x 64 x 32 feature map, 8 heads");
  const double H = 64, W = 64, C = 32, heads = 8;
  Cost c;
  c.tokens = H * W;
  c.entries = heads * c.tokens * c.tokens;
  c.bytes32 = 4 * c.entries;
  c.map_bytes32 = 4 * H * W * C;
  fmt::print(
      "tokens: H x W = {} x {} = {:.0f}, each of C = {:.0f} numbers; every position attends to all {:.0f}\n",
      H, W, c.tokens, C, c.tokens);
  fmt::print("score matrices: {:.0f} heads x {:.0f} x {:.0f} = {:.0f} entries\n", heads, c.tokens, c.tokens,
             c.entries);
  fmt::print("  in float32: {}, in float64: {} (one head: {} in float32)\n", format_bytes(c.bytes32),
             format_bytes(2 * c.bytes32), format_bytes(c.bytes32 / heads));
  fmt::print(
      "the feature map itself: {:.0f} entries = {} in float32, so the scores are {:.0f} times larger\n",
      H * W * C, format_bytes(c.map_bytes32), c.bytes32 / c.map_bytes32);
  // Two libraries, two meanings of "8 heads on 32 channels". PyTorch's MultiheadAttention(32, 8) splits
  // the 32 channels: d_head = 32 / 8 = 4. Keras' MultiHeadAttention(num_heads=8, key_dim=2) takes
  // key_dim as each head's own width: Q and K are 8 x 2 = 16 wide, V too (value_dim defaults to
  // key_dim), and the output is projected back to the input's 32 channels.
  const LayerCount torch = count_layer(c.tokens, C, heads, C / heads, C / heads);
  const LayerCount keras = count_layer(c.tokens, C, heads, 2, 2);
  fmt::print(
      "\nThe same 8 heads in two libraries (self-attention over all {:.0f} positions, biases included):\n",
      c.tokens);
  fmt::print("{:<27} {:>26} {:>33}\n", "", "PyTorch", "Keras");
  fmt::print("{:<27} {:>26} {:>33}\n", "", "MultiheadAttention(32, 8)", "MultiHeadAttention(8, key_dim=2)");
  fmt::print("{:<27} {:>26} {:>33}\n", "width per head: Q, K / V", "4 / 4 (= 32 / 8)",
             "2 / 2 (key_dim, value_dim)");
  fmt::print("{:<27} {:>26} {:>33}\n", "Q, K / V, all heads", "32 / 32", "16 / 16");
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "parameters", torch.params, keras.params);
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "multiply-adds: projections", torch.projections,
             keras.projections);
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "               Q_h K_h^T", torch.scores, keras.scores);
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "               weights V_h", torch.mixing, keras.mixing);
  fmt::print("{:<27} {:>26.3g} {:>33.3g}\n", "               total", torch.total(), keras.total());
  fmt::print("{:<27} {:>26} {:>33}\n", "score tensor, float32", format_bytes(c.bytes32),
             format_bytes(c.bytes32));
  fmt::print(
      "key_dim is the width of one head, not of all of them: Keras' layer computes half of PyTorch's\n"
      "multiply-adds with half the parameters, and both store the same 8 x 4096 x 4096 scores.\n");
  fmt::print(
      "This is why vision transformers attend over patches (16 x 16 patches of a 224 x 224 image are\n"
      "196 tokens) and why attention inside CNNs is kept to small maps or local windows (chapter 09).\n");
  return c;
}

int run(const Options& opt) {
  if (opt.size % opt.patch != 0)
    throw usage_error(fmt::format("--patch {} does not divide --size {}: the patches must tile the picture",
                                  opt.patch, opt.size));
  if (opt.size < 4 || opt.size % 4 != 0)
    throw usage_error(
        fmt::format("--size {} must be a multiple of 4 (the scene is drawn in quarters)", opt.size));
  // The house and the sun fill quarters of the picture; the self-check reads each patch's colour at
  // its corner, so every quarter must be made of whole patches.
  if ((opt.size / 4) % opt.patch != 0)
    throw usage_error(fmt::format(
        "--patch {} does not divide --size / 4 = {}: the house and the sun fill quarters of the picture, "
        "and each quarter must be made of whole patches",
        opt.patch, opt.size / 4));
  const double patches = std::pow(static_cast<double>(opt.size / opt.patch), 2);
  require_within_limits(cost_of(opt), fmt::format("attention over the {:.0f} patches of --size {} --patch {}",
                                                  patches, opt.size, opt.patch));
  print_title("Chapter 08 · Attention for images");
  print_config("picture", fmt::format("{} x {} RGB, synthetic: sky, grass, a red house, a red sun (--size)",
                                      opt.size, opt.size));
  print_config("patches", fmt::format("{} x {} pixels (--patch)", opt.patch, opt.patch));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  show_pixels_as_tokens();
  const Scene s = show_patches(opt, rng);
  const Cost c = show_cost();

  print_section("Self-checks");
  SelfChecks checks;
  const Vector sums = xt::sum(s.weights, {1});
  checks.close("attention rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({sums.size()}))), 1e-12);
  // The query is a house patch; the red patches (house and sun) should get most of its attention.
  const std::size_t g = s.grid, P = opt.patch;
  double red = 0;
  for (std::size_t j = 0; j < g * g; ++j) {
    const std::size_t y = (j / g) * P, x = (j % g) * P;
    if (s.image(0, y, x) > 0.6 && s.image(1, y, x) < 0.5) red += s.weights(s.query, j);
  }
  checks.expect("the house patch gives most of its attention to red patches", red > 0.5,
                fmt::format("{:.2f} of it", red));
  checks.expect("the 64 x 64 x 32 map's scores need over 100 MiB in float32", c.bytes32 > 100.0 * 1024 * 1024,
                format_bytes(c.bytes32));
  if (!opt.common.svg_dir.empty()) {
    PatchOverlaySpec spec;
    spec.title = "Attention of the outlined patch, drawn back onto the picture";
    spec.patch = P;
    spec.query = s.query;
    spec.left_caption = "the picture, patches outlined";
    spec.right_caption = "weights of the yellow patch";
    write_patch_overlay_svg(opt.common.svg_dir, "08-attention-on-picture.svg", s.image,
                            Vector(xt::view(s.weights, s.query, xt::all())), spec);
    fmt::print("wrote 08-attention-on-picture.svg to {}\n", opt.common.svg_dir);
  }
  return checks.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 08: attention for images: pixels, patches, 2-D positions",
               "ch08_attention_for_images"};
  Options opt;
  const int max_size = largest_within_limits(&Options::size, cost_of, 4);
  add_size_option(app, "--size", opt.size, "Side of the synthetic picture in pixels (a multiple of 4)", 4,
                  max_size, "at least 4: the scene is drawn in quarters");
  add_size_option(app, "--patch", opt.patch, "Side of a patch in pixels (must divide --size / 4)", max_size);
  add_common_options(app, opt.common, /*interop=*/false);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}
