# Chapter 12 program: tiled attention on chapter 02's PyTorch fixtures (--load/--save as chapter 02)
# and bad input.
foreach(case small one_query one_key wide large_scores float32_inputs)
  course_interop_test(ch12_efficient_attention 02_dot_product_attention/${case} output.npy)
endforeach()

course_expect_error(ch12_efficient_attention block_size_zero --block-size 0)
course_expect_error(ch12_efficient_attention seq_len_not_a_number --seq-len n)
course_expect_error(ch12_efficient_attention d_k_negative --d-k -16)
course_expect_error(ch12_efficient_attention needs_gigabytes --seq-len 100000)
course_expect_error(ch12_efficient_attention causal_with_l_not_s --load 02_dot_product_attention/small --causal)
course_expect_error(ch12_efficient_attention load_value_truncated --load bad_02/value_truncated)
course_expect_error(ch12_efficient_attention load_key_wrong_width --load bad_02/key_wrong_width)
