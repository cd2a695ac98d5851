# Chapter 03 program: bad sizes.
course_expect_error(ch03_self_attention d_model_zero --d-model 0)
course_expect_error(ch03_self_attention d_k_negative --d-k -4)
course_expect_error(ch03_self_attention d_model_not_a_number --d-model six)
course_expect_error(ch03_self_attention needs_gigabytes --d-model 100000 --d-k 100000)

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch03_self_attention limit_d_model_range "--d-model: 100000000 is out of range"
                    --d-model 100000000)
course_expect_limit(ch03_self_attention limit_work "--d-model 1000 --d-k 5000 would take [0-9.e+]+ multiply-adds"
                    --d-model 1000 --d-k 5000)
course_expect_limit(ch03_self_attention limit_memory "--d-model 10000 --d-k 10000 would need [0-9.]+ GiB"
                    --d-model 10000 --d-k 10000)
