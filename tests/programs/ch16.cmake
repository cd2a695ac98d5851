# Chapter 16 program: bad input (and, if the chapter reads .npy files, its PyTorch cases:
# course_interop_test, fixtures by tools/make_fixtures_16.py).
course_expect_error(ch16_tiny_gpt rows_zero --rows 0)
course_expect_error(ch16_tiny_gpt cols_not_a_number --cols four)
course_expect_error(ch16_tiny_gpt needs_gigabytes --rows 100000 --cols 100000)
