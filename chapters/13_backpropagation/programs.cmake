# Chapter 13 program: gradients against PyTorch's autograd (fixtures by chapters/13_backpropagation/make_fixtures.py) and
# bad input.
foreach(case small one_query one_key causal large_scores float32)
  course_interop_test(ch13_backpropagation chapters/13_backpropagation/fixtures/sdpa_${case}
                      output.npy weights.npy query.grad.npy key.grad.npy value.grad.npy)
endforeach()
foreach(case self_attention l_differs_from_s one_head causal key_padding float32)
  course_interop_test(ch13_backpropagation chapters/13_backpropagation/fixtures/mha_${case}
                      attn_output.npy query.grad.npy key.grad.npy value.grad.npy in_proj_weight.grad.npy
                      in_proj_bias.grad.npy out_proj.weight.grad.npy out_proj.bias.grad.npy)
endforeach()

course_expect_error(ch13_backpropagation heads_not_dividing --heads 3)
course_expect_error(ch13_backpropagation heads_zero --heads 0)
course_expect_error(ch13_backpropagation heads_not_a_number --heads two)
course_expect_error(ch13_backpropagation causal_without_load --causal)
course_expect_error(ch13_backpropagation load_missing_dir --load no_such_dir)
course_expect_error(ch13_backpropagation load_causal_l_not_s --load chapters/13_backpropagation/fixtures/sdpa_small --causal)
course_expect_error(ch13_backpropagation load_heads_on_attention_files --load chapters/13_backpropagation/fixtures/sdpa_small --heads 2)
course_expect_error(ch13_backpropagation load_heads_not_dividing --load chapters/13_backpropagation/fixtures/mha_one_head --heads 3)
course_expect_error(ch13_backpropagation load_causal_on_multi_head --load chapters/13_backpropagation/fixtures/mha_one_head --causal)
course_expect_error(ch13_backpropagation load_no_grad_output_02 --load chapters/02_dot_product_attention/fixtures/small)
course_expect_error(ch13_backpropagation load_no_grad_output_05 --load chapters/05_multi_head_attention/fixtures/one_head)
foreach(case sdpa_missing_grad_output sdpa_grad_output_wrong_rows sdpa_grad_output_wrong_cols sdpa_grad_output_nan
             sdpa_query_inf mha_missing_grad_output mha_grad_output_wrong_shape mha_grad_output_rank_1)
  course_expect_error(ch13_backpropagation load_${case} --load chapters/13_backpropagation/fixtures/bad/${case})
endforeach()
# the malformed inputs of chapters 02 and 04 serve here too (their other files are fine)
foreach(case missing_key key_wrong_width value_wrong_length query_rank_3 query_int64 value_truncated)
  course_expect_error(ch13_backpropagation load_02_${case} --load chapters/02_dot_product_attention/fixtures/bad/${case})
endforeach()
foreach(case mask_float64 mask_wrong_shape padding_wrong_length in_proj_weight_wrong_shape value_nan query_no_rows)
  course_expect_error(ch13_backpropagation load_04_${case} --load chapters/04_masking/fixtures/bad/${case})
endforeach()

# --save without --load writes section 4's example (inputs, weights, grad_output and results); reading
# it back with --load gives the same output and gradients.
add_test(NAME ch13.interop.save_then_load
         COMMAND bash -c "set -e; d=$(mktemp -d); trap 'rm -rf $d' EXIT
                          '$<TARGET_FILE:ch13_backpropagation>' --no-color --save $d/a >/dev/null
                          '$<TARGET_FILE:ch13_backpropagation>' --no-color --load $d/a --save $d/b --heads 2 >/dev/null
                          for f in attn_output query.grad key.grad value.grad in_proj_weight.grad in_proj_bias.grad \
                                   out_proj.weight.grad out_proj.bias.grad; do
                            '$<TARGET_FILE:npy_allclose>' $d/a/$f.npy $d/b/$f.npy 0
                          done")
set_tests_properties(ch13.interop.save_then_load PROPERTIES LABELS "ch13;interop")

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case attention_no_keys attention_zero_width attention_query_nan attention_key_inf attention_query_1e300
             attention_value_1e300 attention_key_above_limit attention_query_bool attention_query_int64
             attention_query_0d)
  course_expect_error(ch13_backpropagation load_${case} --load tests/fixtures/bad_common/${case})
endforeach()
foreach(case mha_mask_floats_marked_bool mha_in_proj_weight_1e300 mha_out_proj_bias_nan mha_key_no_rows)
  course_expect_error(ch13_backpropagation load_${case} --load tests/fixtures/bad_common/${case} --heads 2)
endforeach()
foreach(kind directory fifo devzero loop dangling)
  course_expect_error_special(ch13_backpropagation load_grad_output_${kind} ${kind} grad_output.npy
                              chapters/13_backpropagation/fixtures/sdpa_small)
endforeach()
course_expect_error_special(ch13_backpropagation load_multi_head_grad_output_fifo fifo grad_output.npy
                            chapters/13_backpropagation/fixtures/mha_one_head)
# values at the loaders' bound (1e15) give finite gradients and pass the self-checks
add_test(NAME ch13.load_values_at_limit_attention
         COMMAND ch13_backpropagation --load ${PROJECT_SOURCE_DIR}/chapters/13_backpropagation/fixtures/bad/sdpa_values_at_limit --causal)
add_test(NAME ch13.load_values_at_limit_multi_head
         COMMAND ch13_backpropagation --load ${PROJECT_SOURCE_DIR}/chapters/13_backpropagation/fixtures/bad/mha_values_at_limit --heads 4)
set_tests_properties(ch13.load_values_at_limit_attention ch13.load_values_at_limit_multi_head PROPERTIES LABELS "ch13")

# The layout is chosen by in_proj_weight.npy; the files of the other layout are errors, named
# (require_no_unread_files): multi-head files without in_proj_weight.npy, and a mask beside
# query/key/value (plain attention takes --causal, not a mask file).
course_expect_error_special(ch13_backpropagation load_multi_head_without_in_proj_weight absent in_proj_weight.npy
                            chapters/13_backpropagation/fixtures/mha_one_head)
course_expect_error_special(ch13_backpropagation load_attention_stray_mask copy:key.npy attn_mask.npy
                            chapters/13_backpropagation/fixtures/sdpa_small)
