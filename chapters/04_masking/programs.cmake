# Chapter 04 program: torch.nn.MultiheadAttention with one head (fixtures by chapters/04_masking/make_fixtures.py)
# and bad input.
foreach(case no_mask causal key_padding causal_and_padding causal_rectangular)
  course_interop_test(ch04_masking chapters/04_masking/fixtures/${case} attn_output.npy attn_output_weights.npy)
endforeach()

course_expect_error(ch04_masking d_model_zero --d-model 0)
course_expect_error(ch04_masking d_model_not_a_number --d-model four)
course_expect_error(ch04_masking needs_gigabytes --d-model 10000000)
course_expect_error(ch04_masking load_missing_dir --load no_such_dir)
foreach(case mask_float64 mask_uint8 mask_3d mask_wrong_shape mask_truncated padding_float64
             padding_wrong_length in_proj_weight_wrong_shape value_wrong_length query_no_rows value_nan
             missing_query)
  course_expect_error(ch04_masking load_${case} --load chapters/04_masking/fixtures/bad/${case})
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case mha_mask_floats_marked_bool mha_mask_bytes_not_bool mha_in_proj_weight_1e300 mha_out_proj_bias_nan
             mha_key_no_rows attention_query_zero_by_huge)
  course_expect_error(ch04_masking load_${case} --load tests/fixtures/bad_common/${case})
endforeach()
# an optional file (attn_mask.npy) that is there but unusable is reported, not skipped
foreach(kind directory fifo devzero loop dangling)
  course_expect_error_special(ch04_masking load_attn_mask_${kind} ${kind} attn_mask.npy chapters/04_masking/fixtures/causal)
endforeach()

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch04_masking limit_d_model_200 "--d-model: 200 is out of range.*at most 64: wider, each token attends almost only to itself"
                    --d-model 200)

# A misnamed optional mask is an error, not a mask silently left out (require_no_unread_files).
course_expect_error_special(ch04_masking load_misnamed_mask copy:attn_mask.npy attention_mask.npy chapters/04_masking/fixtures/causal)
