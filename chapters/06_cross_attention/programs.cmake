# Chapter 06 program: bad input.
course_expect_error(ch06_cross_attention heads_not_dividing --heads 4)
course_expect_error(ch06_cross_attention heads_zero --heads 0)
course_expect_error(ch06_cross_attention heads_too_many --heads 12)
course_expect_error(ch06_cross_attention heads_not_a_number --heads two)
