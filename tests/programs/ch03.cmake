# Chapter 03 program: bad sizes.
course_expect_error(ch03_self_attention d_model_zero --d-model 0)
course_expect_error(ch03_self_attention d_k_negative --d-k -4)
course_expect_error(ch03_self_attention d_model_not_a_number --d-model six)
course_expect_error(ch03_self_attention needs_gigabytes --d-model 100000 --d-k 100000)
