# Chapter 15 program: bad input (and, if the chapter reads .npy files, its PyTorch cases:
# course_interop_test, fixtures by tools/make_fixtures_15.py).
course_expect_error(ch15_rnn_to_attention rows_zero --rows 0)
course_expect_error(ch15_rnn_to_attention cols_not_a_number --cols four)
course_expect_error(ch15_rnn_to_attention needs_gigabytes --rows 100000 --cols 100000)
