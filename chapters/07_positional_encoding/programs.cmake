# Chapter 07 program: --save writes pe.npy equal to the PyTorch-style formula (chapters/07_positional_encoding/make_fixtures.py)
# to 1e-12, and bad input.
foreach(case L50_D16 L7_D6 L128_D64)
  course_interop_test(ch07_positional_encoding chapters/07_positional_encoding/fixtures/${case} --no-load --tolerance 1e-12 pe.npy)
endforeach()

course_expect_error(ch07_positional_encoding d_model_odd --d-model 7)
course_expect_error(ch07_positional_encoding d_model_zero --d-model 0)
course_expect_error(ch07_positional_encoding seq_len_negative --seq-len -5)
course_expect_error(ch07_positional_encoding seq_len_not_a_number --seq-len ten)
course_expect_error(ch07_positional_encoding needs_gigabytes --seq-len 10000000 --d-model 1000)

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch07_positional_encoding limit_d_model_6000 "--d-model: 6000 is out of range"
                    --seq-len 1 --d-model 6000)
course_expect_limit(ch07_positional_encoding limit_work "--seq-len 300000 --d-model 200 would take [0-9.e+]+ multiply-adds"
                    --seq-len 300000 --d-model 200)
course_expect_limit(ch07_positional_encoding limit_memory "--seq-len 1000000 --d-model 100 would need [0-9.]+ GiB"
                    --seq-len 1000000 --d-model 100)
