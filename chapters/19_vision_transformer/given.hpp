// Chapter 19 — given code (not an exercise), defined in chapters/19_vision_transformer/given/ and compiled
// with both the reference and your exercise, so the TinyViT's backward runs on the
// patch_embedding_backward and the analyses on the mean_attention_distance it is linked with. What it
// holds: Fashion-MNIST read from Debian's dataset-fashion-mnist (IDX files, gzip), the TinyViT
// (chapter 08's patches, a class token, learned positions, chapter 14's pre-norm GELU blocks) with its
// state_dict, forward and backward, a small CNN on chapter 09's conv2d with the convolution's backward,
// and the measures of what the heads learned.
#pragma once
#include "08_attention_for_images/contract.hpp"  // image_to_patches, patch_embedding
#include "09_attention_vs_cnn/contract.hpp"      // conv2d, ConvSpec
#include "14_training/given.hpp"                 // encoder_layer_forward/backward, AdamW, NamedTensor
#include "16_tiny_gpt/given.hpp"                 // TrainingOptions, learning_rate, run_on_two_threads
#include "19_vision_transformer/contract.hpp"
#include "rng.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace course {

// --- Fashion-MNIST ------------------------------------------------------------------------------------

// Where Debian's dataset-fashion-mnist package puts the four files (IDX format, gzip; MIT licence):
// train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";
// The ten classes, by label.
extern const char* const kFashionClasses[10];

// Images of one size with their labels: image i is pixels[i*rows*cols .. (i+1)*rows*cols), row by row,
// 0 (background) to 255; labels[i] in [0, 10).
struct ImageSet {
  std::size_t count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
  std::vector<std::size_t> labels;
};

// parse_idx_images / parse_idx_labels — the IDX format (LeCun et al.'s MNIST files), all integers
// big-endian int32:
//   images: magic 2051 (0x00000803), count, rows, cols, then count·rows·cols bytes
//   labels: magic 2049 (0x00000801), count, then count bytes, each below 10
// Throws std::invalid_argument (naming `name`) for a wrong magic, a size of 0 or above 10,000 rows or
// columns, or data shorter or longer than the header says.
ImageSet parse_idx_images(const std::vector<std::uint8_t>& bytes, const std::string& name);
std::vector<std::size_t> parse_idx_labels(const std::vector<std::uint8_t>& bytes, const std::string& name);

// read_gzip_file — the decompressed bytes of a gzip file (zlib's gzread), at most max_bytes of them.
// The path is checked first (open_checked: a regular file, not a FIFO); a missing file is a usage_error
// that adds `missing`; a corrupt or truncated stream (gzread fails, or the gzip trailer is missing) a
// usage_error naming the file.
std::vector<std::uint8_t> read_gzip_file(const std::string& path, const std::string& name,
                                         std::size_t max_bytes, const std::string& missing);

// load_fashion_mnist — DIR/{part}-images-idx3-ubyte.gz and DIR/{part}-labels-idx1-ubyte.gz, part "train"
// or "t10k", read and checked (the counts of the two files agree). Every problem is a usage_error of one
// line naming the file; a missing one names the package: "install Debian's dataset-fashion-mnist
// package (./course setup)".
ImageSet load_fashion_mnist(const std::string& dir, const std::string& part);

// subset — the listed images of a set, in the order listed. Throws std::invalid_argument for an index
// not below count.
ImageSet subset(const ImageSet& set, const std::vector<std::size_t>& indices);

// The split of the 60,000 training images: the last `validation` ones (a fixed split, the same on every
// run) are the validation images every choice is made on; the test images (t10k) are scored once.
struct Split {
  ImageSet train, validation;
};
Split split_training(const ImageSet& all, std::size_t validation);

// Pixels as the models read them: x = (p / 255 − mean) / sd, with the mean and sd of the training
// images' pixels (pixel_statistics).
struct PixelScale {
  double mean = 0.0, sd = 1.0;
};
PixelScale pixel_statistics(const ImageSet& set);
// images_tensor — the listed images as (B, 1, rows, cols), scaled.
Tensor4 images_tensor(const ImageSet& set, const std::vector<std::size_t>& indices, const PixelScale& scale);
// labels_of — the listed images' labels.
std::vector<std::size_t> labels_of(const ImageSet& set, const std::vector<std::size_t>& indices);
// class_counts — how many images of each class (10 entries).
std::vector<std::size_t> class_counts(const ImageSet& set);

// --- the TinyViT --------------------------------------------------------------------------------------

// The sizes of a TinyViT: C channels of S x S images cut into P x P patches (n = (S/P)² of them), width
// E = d_model, n_heads heads, d_ff hidden units, n_layers blocks, K classes.
struct TinyVitConfig {
  std::size_t channels = 1, image = 28, patch = 7, d_model = 32, n_heads = 4, d_ff = 64, n_layers = 2,
              classes = 10;
  std::size_t grid() const { return image / patch; }                   // patches per row, S / P
  std::size_t patches() const { return grid() * grid(); }              // n
  std::size_t patch_size() const { return channels * patch * patch; }  // C·P·P
};

// The parameters, named after the state_dict of this PyTorch module (chapters/19_vision_transformer/make_fixtures.py):
//   patch = Conv2d(C, E, P, stride=P); cls (1, E); pos (n+1, E);
//   blocks = [TransformerEncoderLayer(E, H, F, dropout=0, activation="gelu", norm_first=True,
//             batch_first=True)] * layers;  norm = LayerNorm(E);  head = Linear(E, K)
//   x = [cls; patch(images) as (n, E) rows in chapter 08's order] + pos;  x = block(x) for each block;
//   logits = head(norm(x[class token]))
struct TinyVit {
  TinyVitConfig config;
  Tensor4 patch_weight;                     // patch.weight (E, C, P, P)
  Vector patch_bias;                        // patch.bias (E)
  Matrix cls;                               // cls (1, E)
  Matrix pos;                               // pos (n+1, E): row 0 the class token's, row 1 + i patch i's
  std::vector<EncoderLayerWeights> blocks;  // blocks.N.<chapter 11's keys>
  Vector norm_weight, norm_bias;            // norm.weight, norm.bias (E)
  Matrix head_weight;                       // head.weight (K, E)
  Vector head_bias;                         // head.bias (K)
};

// random_tiny_vit — PyTorch's initialisation of the layers, drawn from rng in this order: patch.weight and
// patch.bias uniform in ±1/√(C·P·P) (Conv2d), cls 0, pos ~ N(0, 0.02²) (as ViT implementations draw it;
// the module's own zeros would start every patch at the same position), each block as
// random_encoder_layer with its norms at 1 and 0, norm at 1 and 0, head uniform in ±1/√E (Linear).
// Throws std::invalid_argument when a size is 0, P does not divide S or n_heads does not divide E.
TinyVit random_tiny_vit(Rng& rng, const TinyVitConfig& config);

// The parameter tensors in state_dict order: cls, pos, patch.weight, patch.bias, blocks.N.*,
// norm.weight, norm.bias, head.weight, head.bias. Call it on the gradients too: same order.
std::vector<NamedTensor> named_tensors(TinyVit& model);

// load_tiny_vit — reads a TinyViT's state_dict from DIR: every size from the files (C, P, E from
// patch.weight (E, C, P, P), n from pos (n+1, E), the blocks from the blocks.N. prefixes, F from
// blocks.0.linear1.weight, K from head.weight (K, E)), S from image_size (images.npy), n_heads from
// the caller. A missing file, a wrong shape (cls not (1, E), pos not (n+1, E) with n = (S/P)², ...),
// P not dividing S, or n_heads not dividing E is a usage_error naming the file or the flag.
TinyVit load_tiny_vit(const std::string& dir, std::size_t image_size, std::size_t n_heads);

// What the backward needs from the forward.
struct TinyVitForward {
  std::size_t batch = 0;                    // B
  Matrix patches;                           // (B·n, C·P·P): image_to_patches of each image, stacked
  Matrix patch_w;                           // (C·P·P, E): patch.weight as chapter 08's w
  std::vector<EncoderLayerForward> blocks;  // each block's output and activations (weights (B, H, n+1, n+1))
  LayerNormActivations norm;                // the final norm's, on the class token's rows (B, E)
  Matrix normed;                            // (B, E): what the head read
  Matrix logits;                            // (B, K)
};

// tiny_vit_forward — images (B, C, S, S)  ->  logits (B, K):
//   1. tokens = patch_embedding(image_to_patches(image, P), w, b) for each image (chapter 08; w is
//      patch.weight reshaped to (E, C·P·P) and transposed: the Conv2d with stride P)
//   2. x = [cls; tokens] + pos, one sequence of n+1 rows per image, stacked (B·(n+1), E)
//   3. x = encoder_layer_forward(x, n+1, block, H, norm_first = true, GELU, no mask) for each block
//   4. logits = layer_norm(x[class token rows]) head.weightᵀ + head.bias
// Throws std::invalid_argument when images is not (B, C, S, S) with the model's C and S, or B is 0.
TinyVitForward tiny_vit_forward(const TinyVit& model, const Tensor4& images);

// tiny_vit_backward — dL/d(logits) (B, K)  ->  every parameter's gradient, in a TinyVit: the head, the
// final norm (layer_norm_backward), each block's encoder_layer_backward from the last, then pos (each
// image's rows added), cls (the class rows added) and the patch embedding
// (patch_embedding_backward, your exercise, reshaped to patch.weight's (E, C, P, P)).
TinyVit tiny_vit_backward(const TinyVit& model, const TinyVitForward& forward, const Matrix& grad_logits);

// The loss and every gradient: forward, chapter 14's softmax_cross_entropy, backward.
struct TinyVitLossAndGradients {
  TinyVitForward forward;
  double loss = 0;
  TinyVit grads;
};
TinyVitLossAndGradients tiny_vit_loss_and_gradients(const TinyVit& model, const Tensor4& images,
                                                    const std::vector<std::size_t>& labels);

// load_vit_images — DIR/images.npy, (B, C, S, S) float64 or float32 with B, S >= 1: a usage_error otherwise.
Tensor4 load_vit_images(const std::string& dir);
// load_vit_labels — DIR/labels.npy, (B,) int64, each in [0, classes): a usage_error naming the file and
// the entry otherwise (a wrong dtype, rank or length too).
std::vector<std::size_t> load_vit_labels(const std::string& dir, std::size_t batch, std::size_t classes);

// --- the CNN ------------------------------------------------------------------------------------------

// The gradients of chapter 09's conv2d.
struct Conv2dGradients {
  Tensor3 input;   // (C_in, H, W)
  Tensor4 weight;  // (C_out, C_in, KH, KW)
  Vector bias;     // (C_out)
};
// conv2d_backward — given g = dL/d output (C_out, H_out, W_out) of conv2d(input, weight, bias, spec):
//   output[o][y][x] = bias[o] + Σ_{c,i,j} weight[o][c][i][j] · in[c][y_in][x_in]  (chapter 09), so
//   dweight[o][c][i][j] = Σ_{y,x} g[o][y][x] · in[c][y_in][x_in],   dbias[o] = Σ_{y,x} g[o][y][x],
//   dinput[c][y_in][x_in] += Σ_{o,i,j} g[o][y][x] · weight[o][c][i][j]   (taps in the padding: nothing)
//   y_in = y·stride + i·dilation − padding, x_in likewise
// Throws std::invalid_argument when grad_output is not conv2d's output shape.
Conv2dGradients conv2d_backward(const Tensor3& input, const Tensor4& weight, const ConvSpec& spec,
                                const Tensor3& grad_output);

// The CNN the ViT is compared with: three 3 x 3 convolutions of stride 2 and padding 1 (28 -> 14 -> 7
// -> 4), each followed by ReLU, the mean over the last map's positions (global average pooling), and a
// linear head. widths are the three convolutions' output channels.
struct CnnConfig {
  std::size_t channels = 1, image = 28;
  std::vector<std::size_t> widths = {16, 32, 48};
  std::size_t classes = 10;
};
constexpr ConvSpec kCnnConv{2, 1, 1};  // stride 2, padding 1, dilation 1
constexpr std::size_t kCnnKernel = 3;

// Named as torch.nn.Sequential-like keys: conv.N.weight (C_out, C_in, 3, 3), conv.N.bias (C_out),
// head.weight (K, C_last), head.bias (K).
struct SmallCnn {
  CnnConfig config;
  std::vector<Tensor4> conv_weight;
  std::vector<Vector> conv_bias;
  Matrix head_weight;
  Vector head_bias;
};
// random_small_cnn — PyTorch's Conv2d and Linear initialisation: weights and biases uniform in ±1/√fan_in
// (fan_in = C_in·3·3, or C_last for the head), drawn from rng in the order of named_tensors.
SmallCnn random_small_cnn(Rng& rng, const CnnConfig& config);
std::vector<NamedTensor> named_tensors(SmallCnn& model);

// What the CNN's backward needs: for every layer and image the convolution's input and its output
// before ReLU; the pooled features.
struct CnnForward {
  std::vector<std::vector<Tensor3>> inputs;  // [layer][image] (C_in, H, W)
  std::vector<std::vector<Tensor3>> pre;     // [layer][image] (C_out, H_out, W_out), before ReLU
  Matrix pooled;                             // (B, C_last)
  Matrix logits;                             // (B, K)
};
// small_cnn_forward — images (B, C, S, S) -> logits (B, K): h = relu(conv2d(h)) three times (chapter
// 09's conv2d, image by image), pooled = mean of h over its positions, logits = pooled headᵀ + head.bias.
// Throws std::invalid_argument when images is not (B, C, S, S) with the config's C and S.
CnnForward small_cnn_forward(const SmallCnn& model, const Tensor4& images);
// small_cnn_backward — dL/d logits (B, K) -> every parameter's gradient (the head, the pooling, then
// each layer's ReLU and conv2d_backward, last first).
SmallCnn small_cnn_backward(const SmallCnn& model, const CnnForward& forward, const Matrix& grad_logits);
struct CnnLossAndGradients {
  CnnForward forward;
  double loss = 0;
  SmallCnn grads;
};
CnnLossAndGradients small_cnn_loss_and_gradients(const SmallCnn& model, const Tensor4& images,
                                                 const std::vector<std::size_t>& labels);

// --- training both on the same batches ----------------------------------------------------------------

// The models' optimizer is chapter 16's ScheduledAdamW, one per model (step t of both uses the same
// learning rate), weight decay on the matrices and kernels only (decays_in_vit_or_cnn) unless decay_all.
bool decays_in_vit_or_cnn(const NamedTensor& t);

// batch_order — the training images' indices for `steps` batches of B: the images in a random order
// (rng.permutation), cut into batches, a new order for each pass. Both models read these batches.
std::vector<std::vector<std::size_t>> batch_order(Rng& rng, std::size_t images, std::size_t B,
                                                  std::size_t steps);

// predict — each listed image's class (argmax of the logits), the model run on chunks of 250 images.
std::vector<std::size_t> predict(const TinyVit& model, const ImageSet& set,
                                 const std::vector<std::size_t>& indices, const PixelScale& scale);
std::vector<std::size_t> predict(const SmallCnn& model, const ImageSet& set,
                                 const std::vector<std::size_t>& indices, const PixelScale& scale);
// The share of predictions equal to the labels.
double accuracy_of(const std::vector<std::size_t>& predictions, const std::vector<std::size_t>& labels);
// all_indices — 0 .. count − 1.
std::vector<std::size_t> all_indices(std::size_t count);

// The multiply-adds of one training step on B images (forward, backward twice the forward):
//   ViT per image: patches n·CPP·E; per block (n+1)(4E² + 2EF) + 2(n+1)²E; head K·E
//   CNN per image: per layer C_out·H_out·W_out·C_in·9; head K·C_last
double vit_step_multiply_adds(const TinyVitConfig& config, std::size_t batch);
double cnn_step_multiply_adds(const CnnConfig& config, std::size_t batch);

// --- what the heads learned ---------------------------------------------------------------------------

// attention_distances — mean_attention_distance (your exercise) of every block and head, averaged over
// the images the forward ran on: [block][head] in pixels. uniform_attention_distance — what a head
// that spreads its weight evenly would give (every weight 1/(n+1)).
std::vector<std::vector<double>> attention_distances(const TinyVit& model, const TinyVitForward& forward);
double uniform_attention_distance(const TinyVitConfig& config);

// position_similarity — the cosine similarity of every patch's position embedding with every other's
// (pos rows 1..n; Dosovitskiy et al. 2021, Figure 7 centre): (n, n).
Matrix position_similarity(const TinyVit& model);
// The mean cosine similarity between positions in the same row, the same column, and neither.
struct SimilarityByPlace {
  double same_row = 0.0, same_column = 0.0, elsewhere = 0.0;
};
SimilarityByPlace similarity_by_place(const Matrix& similarity, std::size_t grid_cols);

// class_attention — the class token's attention to each patch in the last block, averaged over heads,
// for image b of the forward: (grid, grid).
Matrix class_attention(const TinyVitForward& forward, std::size_t b, std::size_t grid);

}  // namespace course
