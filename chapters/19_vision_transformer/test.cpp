// Chapter 19 tests: patch_embedding_backward and mean_attention_distance (the exercises), the TinyViT
// against PyTorch's fixtures (chapters/19_vision_transformer/make_fixtures.py) and central differences,
// and the given code (the IDX reader, the convolution's backward, the CNN) in the "given:" suites.
#include "19_vision_transformer/given.hpp"
#include "cli.hpp"  // usage_error
#include "npy.hpp"
#include "test_util.hpp"

#include <doctest/doctest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace course;

namespace {

const std::string kFixtures = std::string(COURSE_CHAPTERS_DIR) + "/19_vision_transformer/fixtures/";

Matrix from_rows(std::size_t rows, std::size_t cols, const std::vector<double>& values) {
  Matrix m = Matrix::from_shape({rows, cols});
  std::copy(values.begin(), values.end(), m.begin());
  return m;
}

// (n+1, n+1) weights: every query row puts weight 1 on the key column target(q) (a patch index)
Matrix one_hot_attention(std::size_t n, const std::function<std::size_t(std::size_t)>& target) {
  Matrix w = xt::zeros<double>({n + 1, n + 1});
  w(0, 0) = 1.0;
  for (std::size_t q = 0; q < n; ++q) w(1 + q, 1 + target(q)) = 1.0;
  return w;
}

}  // namespace

TEST_SUITE("patch_embedding_backward") {
  TEST_CASE("patch_embedding_backward: two patches worked by hand") {
    // tokens = patches w + b with patches (2, 3), w (3, 2); g = dL/d tokens (2, 2)
    const Matrix patches = from_rows(2, 3, {1, 2, 3, 4, 5, 6});
    const Matrix w = from_rows(3, 2, {1, 0, 0, 1, 1, 1});
    const Matrix g = from_rows(2, 2, {1, 2, 3, 4});
    const PatchEmbeddingGradients d = patch_embedding_backward(patches, w, g);
    // g wᵀ: row 0 = (1·1 + 2·0, 1·0 + 2·1, 1 + 2) = (1, 2, 3); row 1 = (3, 4, 7)
    CHECK_CLOSE(d.patches, from_rows(2, 3, {1, 2, 3, 3, 4, 7}), 1e-15);
    // patchesᵀ g: (1·1 + 4·3, 1·2 + 4·4) = (13, 18); (2 + 15, 4 + 20) = (17, 24); (3 + 18, 6 + 24)
    CHECK_CLOSE(d.w, from_rows(3, 2, {13, 18, 17, 24, 21, 30}), 1e-15);
    const Vector column_sums = {4.0, 6.0};
    CHECK_CLOSE(d.b, column_sums, 1e-15);
  }

  TEST_CASE("patch_embedding_backward: central differences, N, D and E all different") {
    Rng rng(5);
    Matrix patches = rng.normal_matrix(5, 4), w = rng.normal_matrix(4, 3);
    Vector b = xt::flatten(rng.normal_matrix(1, 3));
    const Matrix g = rng.normal_matrix(5, 3);
    const PatchEmbeddingGradients d = patch_embedding_backward(patches, w, g);
    REQUIRE_SHAPE(d.patches, {5, 4});
    REQUIRE_SHAPE(d.w, {4, 3});
    REQUIRE_SHAPE(d.b, {3});
    const auto loss = [&] { return xt::sum(patch_embedding(patches, w, b) * g)(); };
    test::check_gradients(loss, 1e-8, {{"patches", d.patches, patches}, {"w", d.w, w}, {"b", d.b, b}});
  }

  TEST_CASE("patch_embedding_backward: the TinyViT's gradients equal PyTorch's (every fixture, 1e-9)") {
    for (const char* name : {"one_layer", "two_layers_rgb", "patch_is_image", "float32"}) {
      CAPTURE(name);
      const std::string dir = kFixtures + name;
      const test::FixtureArgs args = test::fixture_args(dir);
      const Tensor4 images = load_vit_images(dir);
      TinyVit model = load_tiny_vit(dir, images.shape(2), args.count("--heads"));
      const std::vector<std::size_t> labels = load_vit_labels(dir, images.shape(0), model.config.classes);
      TinyVitLossAndGradients r = tiny_vit_loss_and_gradients(model, images, labels);
      CHECK_CLOSE(r.forward.logits, load_matrix(dir, "logits", "(B, K)"), 1e-9);
      CHECK_NEAR(r.loss, load_scalar(dir, "loss"), 1e-9);
      for (const NamedTensor& g : named_tensors(r.grads)) {
        CAPTURE(g.name);
        const NpyArray pytorch = read_npy(dir + "/" + g.name + ".grad.npy", g.name);
        REQUIRE(pytorch.values.size() == g.size);
        double worst = 0.0;
        for (std::size_t i = 0; i < g.size; ++i)
          worst = std::max(worst, std::abs(g.data[i] - pytorch.values[i]));
        CHECK_NEAR(worst, 0.0, 1e-9);
      }
    }
  }

  TEST_CASE("patch_embedding_backward: a whole TinyViT's gradients against central differences") {
    Rng rng(3);
    TinyVit model = random_tiny_vit(rng, {2, 6, 3, 6, 3, 5, 2, 4});
    Tensor4 images = Tensor4::from_shape({3, 2, 6, 6});
    for (double& x : images) x = rng.normal();
    const std::vector<std::size_t> labels = {3, 0, 1};
    TinyVit grads = tiny_vit_loss_and_gradients(model, images, labels).grads;
    test::check_named_gradients(
        named_tensors(model), named_tensors(grads),
        [&] { return tiny_vit_loss_and_gradients(model, images, labels).loss; }, 1e-6);
  }

  TEST_CASE("patch_embedding_backward: shapes that do not fit are refused") {
    const Matrix patches = xt::ones<double>({4, 6}), w = xt::ones<double>({6, 3});
    CHECK_THROWS_AS(patch_embedding_backward(patches, xt::ones<double>({5, 3}), xt::ones<double>({4, 3})),
                    std::invalid_argument);
    CHECK_THROWS_AS(patch_embedding_backward(patches, w, xt::ones<double>({3, 3})), std::invalid_argument);
    CHECK_THROWS_AS(patch_embedding_backward(patches, w, xt::ones<double>({4, 2})), std::invalid_argument);
  }
}

TEST_SUITE("mean_attention_distance") {
  TEST_CASE("mean_attention_distance: uniform attention on a 2 x 2 grid") {
    // each query sees distances 0, 1, 1, √2 (in patches): mean (2 + √2) / 4, times P pixels
    const Matrix uniform = xt::ones<double>({5, 5}) / 5.0;
    CHECK_NEAR(mean_attention_distance(uniform, 2, 1), (2.0 + std::sqrt(2.0)) / 4.0, 1e-15);
    CHECK_NEAR(mean_attention_distance(uniform, 2, 7), 7.0 * (2.0 + std::sqrt(2.0)) / 4.0, 1e-14);
  }

  TEST_CASE("mean_attention_distance: attending to oneself is distance 0") {
    const Matrix self = one_hot_attention(9, [](std::size_t q) { return q; });
    CHECK_NEAR(mean_attention_distance(self, 3, 4), 0.0, 1e-15);
  }

  TEST_CASE("mean_attention_distance: the opposite patch on a 2 x 3 grid (rows and columns told apart)") {
    // patch q = r·3 + c attends to patch 5 − q = (1 − r)·3 + (2 − c): offsets (1, 2), (1, 0), (1, 2) in
    // each row, so distances √5, 1, √5 (twice each: both rows)
    const Matrix opposite = one_hot_attention(6, [](std::size_t q) { return 5 - q; });
    const double expected = 2.0 /* P */ * 2.0 * (2.0 * std::sqrt(5.0) + 1.0) / 6.0;
    CHECK_NEAR(mean_attention_distance(opposite, 3, 2), expected, 1e-14);
  }

  TEST_CASE("mean_attention_distance: the class token's weight is left out and the row renormalised") {
    // the first query puts 0.5 on the class token and 0.5 on the patch to its right: still distance P
    Matrix w = one_hot_attention(4, [](std::size_t q) { return q ^ 1u; });  // 2 x 2: the neighbour in the row
    w(1, 0) = 0.5;
    w(1, 2) = 0.5;
    CHECK_NEAR(mean_attention_distance(w, 2, 3), 3.0, 1e-15);
  }

  TEST_CASE("mean_attention_distance: a query on the last patch counts (every query averaged)") {
    // only the last patch of a 3 x 3 grid looks far, at patch 0: distance P·√8, averaged over 9 queries
    const Matrix w = one_hot_attention(9, [](std::size_t q) { return q == 8 ? 0 : q; });
    CHECK_NEAR(mean_attention_distance(w, 3, 1), std::sqrt(8.0) / 9.0, 1e-15);
  }

  TEST_CASE("mean_attention_distance: malformed weights are refused") {
    CHECK_THROWS_AS(mean_attention_distance(xt::ones<double>({5, 4}), 2, 1), std::invalid_argument);
    CHECK_THROWS_AS(mean_attention_distance(xt::ones<double>({5, 5}), 0, 1), std::invalid_argument);
    CHECK_THROWS_AS(mean_attention_distance(xt::ones<double>({5, 5}), 3, 1), std::invalid_argument);
  }
}

TEST_SUITE("given: 19 Fashion-MNIST") {
  std::vector<std::uint8_t> idx_header(std::vector<std::uint32_t> words) {
    std::vector<std::uint8_t> b;
    for (std::uint32_t w : words)
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(w >> s));
    return b;
  }

  TEST_CASE("IDX images and labels: a file made by hand, and its errors") {
    std::vector<std::uint8_t> images = idx_header({2051, 2, 2, 3});
    for (std::uint8_t p = 0; p < 12; ++p) images.push_back(p);
    const ImageSet set = parse_idx_images(images, "images");
    CHECK(set.count == 2);
    CHECK(set.rows == 2);
    CHECK(set.cols == 3);
    CHECK(set.pixels[7] == 7);
    std::vector<std::uint8_t> labels = idx_header({2049, 3});
    labels.insert(labels.end(), {9, 0, 4});
    CHECK(parse_idx_labels(labels, "labels") == std::vector<std::size_t>{9, 0, 4});
    std::vector<std::uint8_t> short_images(images.begin(), images.end() - 1);
    CHECK_THROWS_AS(parse_idx_images(short_images, "images"), std::invalid_argument);
    CHECK_THROWS_AS(parse_idx_images(labels, "labels as images"), std::invalid_argument);
    CHECK_THROWS_AS(parse_idx_labels(images, "images as labels"), std::invalid_argument);
    labels[9] = 10;
    CHECK_THROWS_AS(parse_idx_labels(labels, "a label of 10"), std::invalid_argument);
    CHECK_THROWS_AS(parse_idx_images(idx_header({2051, 0, 28, 28}), "no images"), std::invalid_argument);
  }

  TEST_CASE("read_gzip_file: a whole file, and the same file truncated") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / "ch19_gzip_test";
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "data.gz").string();
    std::vector<std::uint8_t> data(100000);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>((i * 7919) % 251);
    gzFile f = gzopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    gzwrite(f, data.data(), static_cast<unsigned>(data.size()));
    gzclose(f);
    CHECK(read_gzip_file(path, "data.gz", 1 << 20, "") == data);
    CHECK_THROWS_AS(read_gzip_file(path, "data.gz", 1000, ""), usage_error);  // decompresses to more
    std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
    CHECK_THROWS_AS(read_gzip_file(path, "data.gz", 1 << 20, ""), usage_error);
    CHECK_THROWS_AS(read_gzip_file((dir / "missing.gz").string(), "missing.gz", 1 << 20, "install it"),
                    usage_error);
    std::filesystem::remove_all(dir);
  }

  TEST_CASE("batch_order: every image once per pass, the same batches from the same seed") {
    Rng a(1), b(1);
    const auto batches = batch_order(a, 10, 3, 6);  // 3 batches a pass (one image left over), 2 passes
    CHECK(batches == batch_order(b, 10, 3, 6));
    std::vector<std::size_t> seen;
    for (std::size_t k = 0; k < 3; ++k) seen.insert(seen.end(), batches[k].begin(), batches[k].end());
    std::sort(seen.begin(), seen.end());
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
    CHECK_THROWS_AS(batch_order(a, 2, 3, 1), std::invalid_argument);
  }
}

TEST_SUITE("given: 19 the CNN") {
  TEST_CASE("conv2d_backward: central differences, stride 2 and padding 1") {
    Rng rng(9);
    Tensor3 input = Tensor3::from_shape({2, 5, 5});
    for (double& x : input) x = rng.normal();
    Tensor4 weight = Tensor4::from_shape({3, 2, 3, 3});
    for (double& x : weight) x = rng.normal();
    Vector bias = xt::flatten(rng.normal_matrix(1, 3));
    const Tensor3 g0 = conv2d(input, weight, bias, kCnnConv);
    Tensor3 g = Tensor3::from_shape(g0.shape());
    for (double& x : g) x = rng.normal();
    const Conv2dGradients d = conv2d_backward(input, weight, kCnnConv, g);
    const auto loss = [&] { return xt::sum(conv2d(input, weight, bias, kCnnConv) * g)(); };
    test::check_gradients(loss, 1e-8,
                          {{"input", d.input, input}, {"weight", d.weight, weight}, {"bias", d.bias, bias}});
    CHECK_THROWS_AS(conv2d_backward(input, weight, kCnnConv, Tensor3(xt::zeros<double>({3, 2, 2}))),
                    std::invalid_argument);
  }

  TEST_CASE("the CNN's gradients against central differences") {
    Rng rng(4);
    CnnConfig c;
    c.channels = 1;
    c.image = 8;
    c.widths = {2, 3, 2};
    c.classes = 3;
    SmallCnn model = random_small_cnn(rng, c);
    Tensor4 images = Tensor4::from_shape({2, 1, 8, 8});
    for (double& x : images) x = rng.normal();
    const std::vector<std::size_t> labels = {2, 1};
    SmallCnn grads = small_cnn_loss_and_gradients(model, images, labels).grads;
    test::check_named_gradients(
        named_tensors(model), named_tensors(grads),
        [&] { return small_cnn_loss_and_gradients(model, images, labels).loss; }, 1e-6);
    CHECK(cnn_step_multiply_adds(c, 1) ==
          doctest::Approx(3.0 * (2 * 16 * 9 + 3 * 4 * 2 * 9 + 2 * 1 * 3 * 9 + 3 * 2)));
  }
}

TEST_SUITE("given: 19 the TinyViT's files and measures") {
  TEST_CASE("load_tiny_vit and the labels refuse every malformed fixture") {
    // each bad case of make_fixtures.py is refused by the loaders themselves, not only by the program
    for (const char* name : {"images_patch_does_not_divide",
                             "images_not_square",
                             "images_rank3",
                             "labels_out_of_range",
                             "labels_negative",
                             "labels_float",
                             "labels_int32",
                             "labels_wrong_length",
                             "cls_wrong_shape",
                             "cls_wrong_width",
                             "pos_wrong_rows",
                             "pos_wrong_width",
                             "patch_bias_wrong",
                             "patch_not_square",
                             "head_bias_wrong",
                             "missing_head_bias",
                             "missing_block_key",
                             "in_proj_wrong_shape",
                             "no_blocks",
                             "missing_images"}) {
      CAPTURE(name);
      const std::string dir = kFixtures + "bad/" + name;
      CHECK_THROWS_AS(
          {
            const Tensor4 images = load_vit_images(dir);
            const TinyVit model = load_tiny_vit(dir, images.shape(2), 2);
            load_vit_labels(dir, images.shape(0), model.config.classes);
          },
          usage_error);
    }
    const std::string good = kFixtures + "one_layer";
    CHECK_THROWS_AS(load_tiny_vit(good, 8, 3), usage_error);  // 3 heads do not divide E = 8
    CHECK_THROWS_AS(load_tiny_vit(good, 8, 0), usage_error);
    CHECK_NOTHROW(load_tiny_vit(good, 8, 2));
  }

  TEST_CASE("position_similarity and similarity_by_place on a table made by hand") {
    Rng rng(2);
    TinyVit model = random_tiny_vit(rng, {1, 4, 2, 3, 1, 4, 1, 2});  // a 2 x 2 grid of patches
    // patches 0 and 1 (row 0) the same direction, 2 the opposite of 0, 3 orthogonal to 0
    const double rows[4][3] = {{1, 0, 0}, {2, 0, 0}, {-1, 0, 0}, {0, 1, 0}};
    for (std::size_t i = 0; i < 4; ++i)
      for (std::size_t k = 0; k < 3; ++k) model.pos(1 + i, k) = rows[i][k];
    const Matrix s = position_similarity(model);
    CHECK_CLOSE(s, from_rows(4, 4, {1, 1, -1, 0, 1, 1, -1, 0, -1, -1, 1, 0, 0, 0, 0, 1}), 1e-15);
    const SimilarityByPlace p = similarity_by_place(s, 2);
    CHECK_NEAR(p.same_row, (1.0 + 1.0 + 0.0 + 0.0) / 4.0, 1e-15);      // (0,1), (1,0), (2,3), (3,2)
    CHECK_NEAR(p.same_column, (-1.0 - 1.0 + 0.0 + 0.0) / 4.0, 1e-15);  // (0,2), (2,0), (1,3), (3,1)
    CHECK_NEAR(p.elsewhere, (0.0 + 0.0 - 1.0 - 1.0) / 4.0, 1e-15);     // (0,3), (3,0), (1,2), (2,1)
  }
}

TEST_SUITE("mean_attention_distance") {
  TEST_CASE("mean_attention_distance: attention_distances averages it over the images of a forward") {
    Rng rng(6);
    const TinyVit model = random_tiny_vit(rng, {1, 6, 2, 4, 2, 4, 2, 3});
    Tensor4 images = Tensor4::from_shape({3, 1, 6, 6});
    for (double& x : images) x = rng.normal();
    const TinyVitForward f = tiny_vit_forward(model, images);
    const std::vector<std::vector<double>> d = attention_distances(model, f);
    REQUIRE(d.size() == 2);
    for (std::size_t l = 0; l < 2; ++l)
      for (std::size_t h = 0; h < 2; ++h) {
        double sum = 0.0;
        for (std::size_t b = 0; b < 3; ++b)
          sum += mean_attention_distance(
              Matrix(xt::view(f.blocks[l].saved.attention.weights, b, h, xt::all(), xt::all())), 3, 2);
        CHECK_NEAR(d[l][h], sum / 3.0, 1e-12);
      }
    // uniform attention on the 3 x 3 grid of 2-pixel patches: the mean distance between two patches
    double pairs = 0.0;
    for (std::size_t q = 0; q < 9; ++q)
      for (std::size_t k = 0; k < 9; ++k)
        pairs += 2.0 * std::hypot(double(q / 3) - double(k / 3), double(q % 3) - double(k % 3));
    CHECK_NEAR(uniform_attention_distance(model.config), pairs / 81.0, 1e-12);
  }
}
