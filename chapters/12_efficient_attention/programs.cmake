# Chapter 12 program: tiled attention on chapter 02's PyTorch fixtures (--load/--save as chapter 02)
# and bad input.
foreach(case small one_query one_key wide large_scores float32_inputs)
  course_interop_test(ch12_efficient_attention chapters/02_dot_product_attention/fixtures/${case} output.npy)
endforeach()

course_expect_error(ch12_efficient_attention block_size_zero --block-size 0)
course_expect_error(ch12_efficient_attention seq_len_not_a_number --seq-len n)
course_expect_error(ch12_efficient_attention d_k_negative --d-k -16)
course_expect_error(ch12_efficient_attention needs_gigabytes --seq-len 100000)
course_expect_error(ch12_efficient_attention causal_with_l_not_s --load chapters/02_dot_product_attention/fixtures/small --causal)
course_expect_error(ch12_efficient_attention load_value_truncated --load chapters/02_dot_product_attention/fixtures/bad/value_truncated)
course_expect_error(ch12_efficient_attention load_key_wrong_width --load chapters/02_dot_product_attention/fixtures/bad/key_wrong_width)

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case attention_no_keys attention_zero_width attention_value_zero_width attention_query_nan
             attention_value_1e300 attention_query_bool)
  course_expect_error(ch12_efficient_attention load_${case} --load tests/fixtures/bad_common/${case})
endforeach()
course_expect_error_special(ch12_efficient_attention load_key_directory directory key.npy chapters/02_dot_product_attention/fixtures/small)
course_expect_error_special(ch12_efficient_attention load_value_fifo fifo value.npy chapters/02_dot_product_attention/fixtures/small)
# values at the loaders' bound (1e15): the check against naive attention scales its tolerance with them
add_test(NAME ch12.load_values_at_limit
         COMMAND ch12_efficient_attention --load ${PROJECT_SOURCE_DIR}/tests/fixtures/bad_common/attention_values_at_limit)
set_tests_properties(ch12.load_values_at_limit PROPERTIES LABELS "ch12")

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch12_efficient_attention limit_block_size_15000 "--block-size: 15000 is out of range"
                    --block-size 15000)
course_expect_limit(ch12_efficient_attention limit_seq_len_range "--seq-len: 100000 is out of range"
                    --seq-len 100000)
course_expect_limit(ch12_efficient_attention limit_work "--seq-len 2000 --d-k 700 --block-size 64 would take [0-9.e+]+ multiply-adds"
                    --seq-len 2000 --d-k 700)

# The benchmark's fast tiled attention (chapters/12_efficient_attention/fast_attention.hpp): its own test
# program, since it is not the student's exercise (chapter 12's contract, stubs and tests are untouched).
# The test cases are compiled once and linked twice: against fast_attention_12 (whose kernels the CPU
# picks at start, AVX2 + FMA here) and against fast_attention_12_baseline (plain x86-64 kernels only),
# so the version a CPU without AVX2 runs is tested on this machine too.
add_library(test_12_fast_attention_cases OBJECT ${PROJECT_SOURCE_DIR}/chapters/12_efficient_attention/test_fast_attention.cpp)
target_link_libraries(test_12_fast_attention_cases PRIVATE fast_attention_12 course_test_main doctest::doctest)
course_use_pch(test_12_fast_attention_cases)
foreach(variant IN ITEMS "" "_baseline")
  add_executable(test_12_fast_attention${variant} $<TARGET_OBJECTS:test_12_fast_attention_cases>)
  target_link_libraries(test_12_fast_attention${variant} PRIVATE fast_attention_12${variant} course_test_main
                                                                  doctest::doctest)
  add_test(NAME ch12.fast_attention${variant} COMMAND test_12_fast_attention${variant})
  set_tests_properties(ch12.fast_attention${variant} PROPERTIES LABELS "ch12")
endforeach()

# A file the layout does not read is an error, named (require_no_unread_files).
course_expect_error_special(ch12_efficient_attention load_stray_mask copy:key.npy attn_mask.npy
                            chapters/02_dot_product_attention/fixtures/small)
