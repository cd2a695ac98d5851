# Chapter 04 program: torch.nn.MultiheadAttention with one head (fixtures by tools/make_fixtures_04.py)
# and bad input.
foreach(case no_mask causal key_padding causal_and_padding causal_rectangular)
  course_interop_test(ch04_masking 04_masking/${case} attn_output.npy attn_output_weights.npy)
endforeach()

course_expect_error(ch04_masking d_model_zero --d-model 0)
course_expect_error(ch04_masking d_model_not_a_number --d-model four)
course_expect_error(ch04_masking needs_gigabytes --d-model 10000000)
course_expect_error(ch04_masking load_missing_dir --load no_such_dir)
foreach(case mask_float64 mask_uint8 mask_3d mask_wrong_shape mask_truncated padding_float64
             padding_wrong_length in_proj_weight_wrong_shape value_wrong_length query_no_rows value_nan
             missing_query)
  course_expect_error(ch04_masking load_${case} --load bad_04/${case})
endforeach()
