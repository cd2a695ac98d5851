# Chapter 11 program: PyTorch interop (torch.nn.TransformerEncoderLayer) and bad input.
foreach(case post_norm pre_norm post_norm_4_heads pre_norm_1_head)
  course_interop_test(ch11_transformer_block chapters/11_transformer_block/fixtures/${case} output.npy)
endforeach()

course_expect_error(ch11_transformer_block heads_not_dividing --d-model 8 --heads 3)
course_expect_error(ch11_transformer_block heads_zero --heads 0)
course_expect_error(ch11_transformer_block d_model_not_a_number --d-model eight)
course_expect_error(ch11_transformer_block depth_negative --depth -2)
course_expect_error(ch11_transformer_block needs_gigabytes --seq-len 100000 --d-model 100000 --heads 1)
course_expect_error(ch11_transformer_block load_missing_dir --load no_such_dir)
course_expect_error(ch11_transformer_block load_heads_not_dividing
                    --load chapters/11_transformer_block/fixtures/post_norm --heads 3)
foreach(case linear1_weight_wrong_shape norm1_weight_wrong_length src_wrong_width in_proj_weight_int64
             missing_linear2_bias)
  course_expect_error(ch11_transformer_block load_${case} --load chapters/11_transformer_block/fixtures/bad/${case} --heads 2)
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case encoder_src_no_rows encoder_zero_width encoder_linear1_no_rows encoder_src_1e300
             encoder_norm1_weight_inf)
  course_expect_error(ch11_transformer_block load_${case} --load tests/fixtures/bad_common/${case} --heads 2)
endforeach()
course_expect_error_special(ch11_transformer_block load_src_directory directory src.npy
                            chapters/11_transformer_block/fixtures/post_norm --heads 2)
course_expect_error_special(ch11_transformer_block load_norm2_bias_fifo fifo norm2.bias.npy
                            chapters/11_transformer_block/fixtures/post_norm --heads 2)
# every weight at the loaders' bound (1e15): the longest chain of products stays finite
add_test(NAME ch11.load_values_at_limit
         COMMAND ch11_transformer_block --load ${PROJECT_SOURCE_DIR}/tests/fixtures/bad_common/encoder_values_at_limit
                 --heads 2)
set_tests_properties(ch11.load_values_at_limit PROPERTIES LABELS "ch11")

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch11_transformer_block limit_d_model_1 "--d-model: 1 is out of range.*at least 2: layer norm of one number is always 0"
                    --seq-len 1 --d-model 1 --heads 1)
course_expect_limit(ch11_transformer_block limit_d_ff_range "--d-ff: 10000000 is out of range"
                    --d-ff 10000000)
course_expect_limit(ch11_transformer_block limit_work "--seq-len 300 --d-model 8 --heads 2 --d-ff 32 --depth 100 would take [0-9.e+]+ multiply-adds"
                    --seq-len 300 --depth 100)

# A key the layer does not have is an error, as in PyTorch's strict load_state_dict.
course_expect_error_special(ch11_transformer_block load_unexpected_key copy:norm2.bias.npy norm3.bias.npy
                            chapters/11_transformer_block/fixtures/post_norm --heads 2)
