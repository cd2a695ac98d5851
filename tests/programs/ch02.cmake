# Chapter 02 program: PyTorch interop (fixtures by tools/make_fixtures_02.py) and bad input.
foreach(case small one_query one_key wide large_scores float32_inputs)
  course_interop_test(ch02_dot_product_attention 02_dot_product_attention/${case} output.npy weights.npy)
endforeach()

course_expect_error(ch02_dot_product_attention samples_not_a_number --samples many)
course_expect_error(ch02_dot_product_attention samples_zero --samples 0)
course_expect_error(ch02_dot_product_attention keys_negative --keys -4)
course_expect_error(ch02_dot_product_attention d_max_fraction --d-max 1.5)
course_expect_error(ch02_dot_product_attention needs_gigabytes --keys 1000000 --d-max 100000)
course_expect_error(ch02_dot_product_attention load_missing_dir --load no_such_dir)
foreach(case missing_key key_wrong_width value_wrong_length query_rank_3 query_int64 value_truncated query_not_npy)
  course_expect_error(ch02_dot_product_attention load_${case} --load bad_02/${case})
endforeach()
