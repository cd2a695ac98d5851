# Chapter 05 program: torch.nn.MultiheadAttention (fixtures by chapters/05_multi_head_attention/make_fixtures.py) and bad input.
foreach(case self_attention l_differs_from_s causal key_padding one_head eight_heads float32)
  course_interop_test(ch05_multi_head_attention chapters/05_multi_head_attention/fixtures/${case}
                      attn_output.npy attn_output_weights.npy)
endforeach()

course_expect_error(ch05_multi_head_attention heads_not_dividing --d-model 8 --heads 3)
course_expect_error(ch05_multi_head_attention heads_zero --heads 0)
course_expect_error(ch05_multi_head_attention d_model_not_a_number --d-model 8.5)
course_expect_error(ch05_multi_head_attention needs_gigabytes --d-model 10000 --heads 1)
course_expect_error(ch05_multi_head_attention load_heads_not_dividing --load chapters/05_multi_head_attention/fixtures/causal --heads 4)
course_expect_error(ch05_multi_head_attention load_missing_dir --load no_such_dir)
# chapter 04's malformed MultiheadAttention files serve here too
foreach(case mask_float64 mask_wrong_shape padding_wrong_length in_proj_weight_wrong_shape missing_query
             mask_truncated)
  course_expect_error(ch05_multi_head_attention load_${case} --load chapters/04_masking/fixtures/bad/${case} --heads 1)
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case mha_mask_floats_marked_bool mha_in_proj_weight_1e300 mha_out_proj_bias_nan mha_key_no_rows)
  course_expect_error(ch05_multi_head_attention load_${case} --load tests/fixtures/bad_common/${case} --heads 2)
endforeach()
course_expect_error_special(ch05_multi_head_attention load_key_padding_mask_fifo fifo key_padding_mask.npy
                            chapters/05_multi_head_attention/fixtures/key_padding --heads 2)
course_expect_error_special(ch05_multi_head_attention load_in_proj_weight_devzero devzero in_proj_weight.npy
                            chapters/05_multi_head_attention/fixtures/key_padding --heads 2)

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch05_multi_head_attention limit_d_model_range "--d-model: 3000 is out of range"
                    --d-model 3000)
course_expect_limit(ch05_multi_head_attention limit_heads_range "--heads: 100000 is out of range"
                    --heads 100000)

# A misnamed optional mask is an error, not a mask silently left out (require_no_unread_files).
course_expect_error_special(ch05_multi_head_attention load_misnamed_padding_mask copy:key_padding_mask.npy
                            padding_mask.npy chapters/05_multi_head_attention/fixtures/key_padding --heads 2)
