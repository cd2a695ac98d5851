// Chapter 08 — attention for images: an image as a set of vectors, patches and their embedding
// (ViT), 2-D positions, attention over the patches of a small synthetic picture drawn back onto the
// picture, and what attention over a whole feature map costs.
//
//   build/bin/ch08_attention_for_images [--size N] [--patch P] [--seed S] [--svg DIR] [--no-color]
//
// Sections: 1. pixels as tokens, 2. patches, 3. patch embedding and 2-D positions, 4. self-attention
// over the patches, 5. what attention over a feature map costs. Each section computes into a struct
// (compute_*), then prints and draws from it (show_*); self_checks() checks the claims from those
// structs; run() calls them in order.
#include "03_self_attention/contract.hpp"
#include "07_positional_encoding/contract.hpp"
#include "08_attention_for_images/given.hpp"
#include "cli.hpp"
#include "figures.hpp"
#include "print.hpp"
#include "rng.hpp"

#include <array>

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
  const double figure = Figures(opt.common).enabled() ? 2.0 * n * n * svg_cell : 0.0;
  return {8.0 * 4.0 * N * N + 8.0 * 6.0 * 3.0 * n * n + (figure > 0 ? 200.0 * n * n : 0.0),
          45.0 * n * n + 3.0 * P * P * normal_draw + N * N * (24.0 + math_call + 4.0 * fresh_double) +
              N * printed_number + figure};
}

// The flags, each setting a field of Options (the sizes up to what fits the limits, cost_of).
void add_flags(CLI::App& app, Options& opt) {
  const int max_size = largest_within_limits(&Options::size, cost_of, 4);
  add_size_option(app, "--size", opt.size, "Side of the synthetic picture in pixels", 4, max_size,
                  "a multiple of 4, at least 4: the scene is drawn in quarters");
  add_size_option(app, "--patch", opt.patch, "Side of a patch in pixels (must divide --size / 4)", max_size);
  add_common_options(app, opt.common, /*interop=*/false);
}

// The flags' rules that a size range cannot say, and the cost limit; a usage_error (exit 2) if one fails.
void check_flags(const Options& opt) {
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
}

// 1. An image is a set of vectors: a 5 x 10 RGB picture (C, H, W) = (3, 5, 10) is H*W = 50 tokens of
// C = 3 numbers, token y*W + x holding pixel (y, x).
struct PixelsResult {
  Tensor3 image;   // (3, 5, 10): red grows to the right, green downwards, blue fades to the right
  Matrix tokens;   // image_to_tokens(image): (50, 3)
  Matrix patches;  // image_to_patches(image, 5): (2, 75)
};

PixelsResult compute_pixels() {
  PixelsResult r;
  r.image = Tensor3::from_shape({3, 5, 10});
  for (std::size_t y = 0; y < 5; ++y)
    for (std::size_t x = 0; x < 10; ++x) {
      r.image(0, y, x) = x / 9.0;
      r.image(1, y, x) = y / 4.0;
      r.image(2, y, x) = 1.0 - x / 9.0;
    }
  r.tokens = image_to_tokens(r.image);
  r.patches = image_to_patches(r.image, 5);
  return r;
}

void show_pixels(const PixelsResult& r) {
  print_section("1. An image is a set of vectors");
  fmt::print("A 5 x 10 RGB picture, channels first as in PyTorch: image {} (C, H, W).\n", shape_of(r.image));
  fmt::print(
      "One token per pixel, holding its 3 channels: tokens {} (H*W, C); token y*W + x is pixel (y, x).\n",
      shape_of(r.tokens));
  print_matrix("the first 4 tokens (pixels (0,0) .. (0,3))",
               Matrix(xt::view(r.tokens, xt::range(0, 4), xt::all())), numbered("t", 4), {"R", "G", "B"}, 3);
  fmt::print(
      "Attention over these 50 tokens would compare every pixel with every pixel: 50 x 50 = 2500 scores.\n"
      "Patches of 5 x 5 turn the same picture into {} tokens of {} = 3 x 5 x 5 numbers.\n",
      r.patches.shape(0), r.patches.shape(1));
}

// 2. Patches: the synthetic n x n picture cut into g x g patches of P x P, g = n / P:
//   image (3, n, n)  ->  image_to_patches  ->  patches (N, 3 P P),  N = g²
using Rgb = std::array<double, 3>;
const Rgb kSky = {0.55, 0.75, 0.95}, kGrass = {0.25, 0.65, 0.25}, kHouse = {0.85, 0.15, 0.10},
          kSun = {0.90, 0.18, 0.10};

// The colour of pixel (y, x) of the n x n scene: sky above, grass below, a red house on the grass
// (rows [n/2, 3n/4), columns [n/4, 3n/4)) and a red sun in the top right corner (rows [0, n/4),
// columns [3n/4, n)).
Rgb scene_colour(std::size_t y, std::size_t x, std::size_t n) {
  if (y < n / 4 && x >= 3 * n / 4) return kSun;
  if (y >= n / 2 && y < 3 * n / 4 && x >= n / 4 && x < 3 * n / 4) return kHouse;
  if (y < n / 2) return kSky;
  return kGrass;
}

// The picture (3, n, n): each pixel its scene colour plus a little texture, a shade in
// {-0.08, -0.04, 0, 0.04, 0.08} repeating along the diagonals, clamped to [0, 1].
Tensor3 make_picture(std::size_t n) {
  Tensor3 img = Tensor3::from_shape({3, n, n});
  for (std::size_t y = 0; y < n; ++y)
    for (std::size_t x = 0; x < n; ++x) {
      const Rgb colour = scene_colour(y, x, n);
      const double shade = 0.04 * static_cast<double>((x * 7 + y * 3) % 5) - 0.08;
      for (std::size_t c = 0; c < 3; ++c) img(c, y, x) = std::clamp(colour[c] + shade, 0.0, 1.0);
    }
  return img;
}

struct PatchesResult {
  std::size_t size = 0, patch = 0, grid = 0;  // n, P, g = n / P patches per side
  Tensor3 image;                              // (3, n, n)
  Matrix patches;                             // (g², 3 P P), each flattened in the order (channel, y, x)
};

PatchesResult compute_patches(const Options& opt) {
  PatchesResult r;
  r.size = opt.size;
  r.patch = opt.patch;
  r.grid = r.size / r.patch;
  r.image = make_picture(r.size);
  r.patches = image_to_patches(r.image, r.patch);
  return r;
}

void show_patches(const PatchesResult& r) {
  const std::size_t n = r.size, P = r.patch, g = r.grid;
  print_section(fmt::format("2. Patches: a {} x {} picture in {} x {} patches of {} x {}", n, n, g, g, P, P));
  fmt::print(
      "image {} -> image_to_patches -> {}: {} patches, each C x P x P = 3 x {} x {} = {} numbers,\n"
      "flattened in the order (channel, y, x), as a Conv2d's weight is.\n",
      shape_of(r.image), shape_of(r.patches), r.patches.shape(0), P, P, r.patches.shape(1));
}

// 3. Patch embedding and 2-D positions, d_model = 12:
//   tokens = patches W + b      (N, 3 P P) x (3 P P, 12) + (12)  ->  (N, 12)
//   x = tokens + 0.3 positions  positions (N, 12): 0 in features 0-3, the patch's row in 4-7 and its
//                               column in 8-11 (sinusoidal_encoding of chapter 07 each)

// The embedding matrix (3 P P, 12): features 0-2 average each colour channel over the patch (a
// hand-made "colour detector"), feature 3 is a small random one, N(0, 0.02²) per pixel, and
// features 4-11 stay 0: they are left for the position.
Matrix make_embedding(std::size_t P, Rng& rng) {
  Matrix w = xt::zeros<double>({3 * P * P, kDModel});
  const Matrix random = 0.02 * rng.normal_matrix(3 * P * P, 1);
  for (std::size_t i = 0; i < 3 * P * P; ++i) w(i, 3) = random(i, 0);
  for (std::size_t c = 0; c < 3; ++c)
    for (std::size_t i = 0; i < P * P; ++i) w(c * P * P + i, c) = 1.0 / (P * P);
  return w;
}

// 2-D positions of a rows x cols grid, (rows * cols, d): the first d/2 features encode the patch's
// row, the last d/2 its column, each with chapter 07's sinusoidal encoding.
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

struct EmbeddingResult {
  Matrix w;       // (3 P P, 12)
  Vector b;       // (12): minus the picture's mean colour in features 0-2, 0 elsewhere
  Matrix tokens;  // patch_embedding(patches, w, b): (N, 12)
  Matrix x;       // tokens + 0.3 positions: (N, 12)
};

EmbeddingResult compute_embedding(const PatchesResult& p, Rng& rng) {
  const std::size_t g = p.grid;
  EmbeddingResult r;
  r.w = make_embedding(p.patch, rng);
  // b subtracts the picture's mean colour, so features 0-2 say how a patch differs from the average.
  r.b = xt::zeros<double>({kDModel});
  for (std::size_t c = 0; c < 3; ++c) r.b(c) = -xt::mean(xt::view(p.image, c, xt::all(), xt::all()))();
  r.tokens = patch_embedding(p.patches, r.w, r.b);
  const Matrix grid_positions = positions_2d(g, g, 8);  // (N, 8) -> features 4-11
  Matrix positions = xt::zeros<double>({g * g, kDModel});
  for (std::size_t i = 0; i < g * g; ++i)
    for (std::size_t j = 0; j < 8; ++j) positions(i, 4 + j) = grid_positions(i, j);
  r.x = r.tokens + 0.3 * positions;
  return r;
}

void show_embedding(const EmbeddingResult& r, const PatchesResult& p) {
  print_section("3. Patch embedding and 2-D positions");
  fmt::print(
      "tokens = patches W + b: {} x {} -> {}. W averages each colour channel into features 0-2 and b\n"
      "subtracts the picture's mean colour (a hand-made colour detector; ViT learns W and b);\n"
      "feature 3 is a small random one.\n",
      shape_of(p.patches), shape_of(r.w), shape_of(r.tokens));
  fmt::print(
      "2-D positions: features 4-7 get sinusoidal_encoding(row), 8-11 sinusoidal_encoding(column), so\n"
      "patches in the same row share half their position code. x = tokens + 0.3 * positions.\n");
  Labels names;  // patch i is at row i / g, column i % g
  for (std::size_t i = 0; i < 4; ++i) names.push_back(fmt::format("patch ({},{})", i / p.grid, i % p.grid));
  print_matrix("x, the first 4 patches", Matrix(xt::view(r.x, xt::range(0, 4), xt::all())), names, {}, 3);
}

// 4. Self-attention over the patches, W_q = W_k = diag(5, 5, 5, 1, ..., 1) (colour counts 25 times
// as much as each other feature in q . k), W_v = I:
//   self_attention(x (N, 12)) -> weights (N, N); the query is a patch of the red house.
struct PatchAttentionResult {
  Matrix weights;         // (N, N)
  std::size_t query = 0;  // the house patch whose weights are shown: row 3g/4 - 1, column g/4
};

PatchAttentionResult compute_patch_attention(const EmbeddingResult& e, const PatchesResult& p) {
  Matrix w_qk = xt::zeros<double>({kDModel, kDModel});
  for (std::size_t j = 0; j < kDModel; ++j) w_qk(j, j) = j < 3 ? 5.0 : 1.0;
  const Matrix w_v = xt::eye<double>(kDModel);
  PatchAttentionResult r;
  r.weights = self_attention(e.x, w_qk, w_qk, w_v).weights;
  const std::size_t g = p.grid, house_row = 3 * g / 4 - 1, house_col = g / 4;  // the house's bottom left
  r.query = house_row * g + house_col;
  return r;
}

void show_patch_attention(const PatchAttentionResult& r, const PatchesResult& p, Figures& figures) {
  print_section("4. Self-attention over the patches");
  fmt::print(
      "W_q = W_k = diag(5, 5, 5, 1, ..., 1): the scores compare colours strongly, positions weakly.\n");
  const std::size_t g = p.grid;
  Matrix laid_out = Matrix::from_shape({g, g});  // the query's N weights, patch (row, col) at (row, col)
  for (std::size_t row = 0; row < g; ++row)
    for (std::size_t col = 0; col < g; ++col) laid_out(row, col) = r.weights(r.query, row * g + col);
  print_heatmap(fmt::format("weights of the query patch ({},{}) (the red house), laid out as the picture",
                            r.query / g, r.query % g),
                laid_out, numbered("row ", g), numbered("col ", g));
  fmt::print(
      "The house patch attends to the other red patches — the rest of the house and the sun in the\n"
      "far corner — whatever their distance: attention links patches by content, not by locality.\n");
  PatchOverlaySpec spec;
  spec.title = "Attention of the outlined patch, drawn back onto the picture";
  spec.patch = p.patch;
  spec.query = r.query;
  spec.left_caption = "the picture, patches outlined";
  spec.right_caption = "weights of the yellow patch";
  figures.patch_overlay("08-attention-on-picture.svg", p.image,
                        Vector(xt::view(r.weights, r.query, xt::all())), spec);
}

// 5. What attention over a whole 64 x 64 x 32 feature map costs, 8 heads.
//
// One multi-head self-attention layer over n tokens of C channels, counted from the shapes of its
// products: `heads` heads whose queries and keys are d_qk wide and whose values are d_v wide (each
// head's own width), C input channels, output projected back to C, with biases.
//   Q = x W_q + b_q  (n, C) x (C, heads·d_qk)      K likewise, V: (n, C) x (C, heads·d_v)
//   scores_h = Q_h K_h^T  (n, d_qk) x (d_qk, n)    out_h = weights_h V_h  (n, n) x (n, d_v)
//   output = concat(out_h) W_o + b_o  (n, heads·d_v) x (heads·d_v, C)
// so the parameters are W_q, W_k (C, heads·d_qk) with their biases, W_v (C, heads·d_v) with its bias and
// W_o (heads·d_v, C) with its bias, and the multiply-adds those of the five products.
struct LayerCount {
  double params = 0, projections = 0, scores = 0, mixing = 0;
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

struct FeatureMapCost {
  double height = 64, width = 64, channels = 32, heads = 8;
  double tokens = 0;       // H W
  double entries = 0;      // heads x tokens x tokens scores
  double bytes32 = 0;      // the scores in float32
  double map_bytes32 = 0;  // the feature map itself in float32
  // Two libraries, two meanings of "8 heads on 32 channels". PyTorch's MultiheadAttention(32, 8)
  // splits the 32 channels: d_head = 32 / 8 = 4. Keras' MultiHeadAttention(num_heads=8, key_dim=2)
  // takes key_dim as each head's own width: Q and K are 8 x 2 = 16 wide, V too (value_dim defaults
  // to key_dim), and the output is projected back to the input's 32 channels.
  LayerCount torch, keras;
};

FeatureMapCost compute_feature_map_cost() {
  FeatureMapCost c;
  c.tokens = c.height * c.width;
  c.entries = c.heads * c.tokens * c.tokens;
  c.bytes32 = 4 * c.entries;
  c.map_bytes32 = 4 * c.height * c.width * c.channels;
  c.torch = count_layer(c.tokens, c.channels, c.heads, c.channels / c.heads, c.channels / c.heads);
  c.keras = count_layer(c.tokens, c.channels, c.heads, 2, 2);
  return c;
}

void show_feature_map_cost(const FeatureMapCost& c) {
  print_section("5. Attention over every position of a 64 x 64 x 32 feature map, 8 heads");
  fmt::print(
      "tokens: H x W = {} x {} = {:.0f}, each of C = {:.0f} numbers; every position attends to all {:.0f}\n",
      c.height, c.width, c.tokens, c.channels, c.tokens);
  fmt::print("score matrices: {:.0f} heads x {:.0f} x {:.0f} = {:.0f} entries\n", c.heads, c.tokens, c.tokens,
             c.entries);
  fmt::print("  in float32: {}, in float64: {} (one head: {} in float32)\n", format_bytes(c.bytes32),
             format_bytes(2 * c.bytes32), format_bytes(c.bytes32 / c.heads));
  fmt::print(
      "the feature map itself: {:.0f} entries = {} in float32, so the scores are {:.0f} times larger\n",
      c.height * c.width * c.channels, format_bytes(c.map_bytes32), c.bytes32 / c.map_bytes32);
  fmt::print(
      "\nThe same 8 heads in two libraries (self-attention over all {:.0f} positions, biases included):\n",
      c.tokens);
  fmt::print("{:<27} {:>26} {:>33}\n", "", "PyTorch", "Keras");
  fmt::print("{:<27} {:>26} {:>33}\n", "", "MultiheadAttention(32, 8)", "MultiHeadAttention(8, key_dim=2)");
  fmt::print("{:<27} {:>26} {:>33}\n", "width per head: Q, K / V", "4 / 4 (= 32 / 8)",
             "2 / 2 (key_dim, value_dim)");
  fmt::print("{:<27} {:>26} {:>33}\n", "Q, K / V, all heads", "32 / 32", "16 / 16");
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "parameters", c.torch.params, c.keras.params);
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "multiply-adds: projections", c.torch.projections,
             c.keras.projections);
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "               Q_h K_h^T", c.torch.scores, c.keras.scores);
  fmt::print("{:<27} {:>26.0f} {:>33.0f}\n", "               weights V_h", c.torch.mixing, c.keras.mixing);
  fmt::print("{:<27} {:>26.3g} {:>33.3g}\n", "               total", c.torch.total(), c.keras.total());
  fmt::print("{:<27} {:>26} {:>33}\n", "score tensor, float32", format_bytes(c.bytes32),
             format_bytes(c.bytes32));
  fmt::print(
      "key_dim is the width of one head, not of all of them: Keras' layer computes half of PyTorch's\n"
      "multiply-adds with half the parameters, and both store the same 8 x 4096 x 4096 scores.\n");
  fmt::print(
      "This is why vision transformers attend over patches (16 x 16 patches of a 224 x 224 image are\n"
      "196 tokens) and why attention inside CNNs is kept to small maps or local windows (chapter 09).\n");
}

// A pixel of the house or the sun: much red, little green (sky and grass have green >= 0.57).
bool is_red(const Tensor3& image, std::size_t y, std::size_t x) {
  return image(0, y, x) > 0.6 && image(1, y, x) < 0.5;
}

// The closing self-checks: every claim of the walkthrough, from the numbers it computed.
int self_checks(const PatchesResult& p, const PatchAttentionResult& a, const FeatureMapCost& c) {
  print_section("Self-checks");
  SelfChecks checks;
  const Vector sums = xt::sum(a.weights, {1});
  checks.close("attention rows sum to 1", max_abs_diff(sums, Vector(xt::ones<double>({sums.size()}))), 1e-12);
  // The query is a house patch; the red patches (house and sun, told by their top left pixel, since
  // the house and the sun are made of whole patches) should get most of its attention.
  const std::size_t g = p.grid, P = p.patch;
  double red = 0;
  for (std::size_t j = 0; j < g * g; ++j)
    if (is_red(p.image, (j / g) * P, (j % g) * P)) red += a.weights(a.query, j);
  checks.expect("the house patch gives most of its attention to red patches", red > 0.5,
                fmt::format("{:.2f} of it", red));
  checks.expect("the 64 x 64 x 32 map's scores need over 100 MiB in float32", c.bytes32 > 100.0 * 1024 * 1024,
                format_bytes(c.bytes32));
  return checks.exit_code();
}

int run(const Options& opt) {
  check_flags(opt);
  print_title("Chapter 08 · Attention for images");
  print_config("picture", fmt::format("{} x {} RGB, synthetic: sky, grass, a red house, a red sun (--size)",
                                      opt.size, opt.size));
  print_config("patches", fmt::format("{} x {} pixels (--patch)", opt.patch, opt.patch));
  print_config("seed", std::to_string(opt.common.seed));

  Rng rng(opt.common.seed);
  Figures figures(opt.common);
  show_pixels(compute_pixels());
  const PatchesResult picture = compute_patches(opt);
  show_patches(picture);
  const EmbeddingResult embedding = compute_embedding(picture, rng);
  show_embedding(embedding, picture);
  const PatchAttentionResult attention = compute_patch_attention(embedding, picture);
  show_patch_attention(attention, picture, figures);
  const FeatureMapCost cost = compute_feature_map_cost();
  show_feature_map_cost(cost);
  const int status = self_checks(picture, attention, cost);
  figures.report();
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Chapter 08: attention for images: pixels, patches, 2-D positions",
               "ch08_attention_for_images"};
  Options opt;
  add_flags(app, opt);
  return run_program(app, argc, argv, opt.common, [&] { return run(opt); });
}
