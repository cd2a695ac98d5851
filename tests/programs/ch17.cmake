# Chapter 17 program: bad input (and, if the chapter reads .npy files, its PyTorch cases:
# course_interop_test, fixtures by tools/make_fixtures_17.py).
course_expect_error(ch17_fast_generation rows_zero --rows 0)
course_expect_error(ch17_fast_generation cols_not_a_number --cols four)
course_expect_error(ch17_fast_generation needs_gigabytes --rows 100000 --cols 100000)
