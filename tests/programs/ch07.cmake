# Chapter 07 program: --save writes pe.npy equal to the PyTorch-style formula (tools/make_fixtures_07.py)
# to 1e-12, and bad input.
foreach(case L50_D16 L7_D6 L128_D64)
  course_interop_test(ch07_positional_encoding 07_positional_encoding/${case} --no-load --tolerance 1e-12 pe.npy)
endforeach()

course_expect_error(ch07_positional_encoding d_model_odd --d-model 7)
course_expect_error(ch07_positional_encoding d_model_zero --d-model 0)
course_expect_error(ch07_positional_encoding seq_len_negative --seq-len -5)
course_expect_error(ch07_positional_encoding seq_len_not_a_number --seq-len ten)
course_expect_error(ch07_positional_encoding needs_gigabytes --seq-len 10000000 --d-model 1000)
