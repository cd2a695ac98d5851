# Chapter 02 program: PyTorch interop (fixtures by chapters/02_dot_product_attention/make_fixtures.py) and bad input.
foreach(case small one_query one_key wide large_scores float32_inputs)
  course_interop_test(ch02_dot_product_attention chapters/02_dot_product_attention/fixtures/${case} output.npy weights.npy)
endforeach()

course_expect_error(ch02_dot_product_attention samples_not_a_number --samples many)
course_expect_error(ch02_dot_product_attention samples_zero --samples 0)
course_expect_error(ch02_dot_product_attention keys_negative --keys -4)
course_expect_error(ch02_dot_product_attention d_max_fraction --d-max 1.5)
course_expect_error(ch02_dot_product_attention needs_gigabytes --keys 1000000 --d-max 100000)
course_expect_error(ch02_dot_product_attention load_missing_dir --load no_such_dir)
foreach(case missing_key key_wrong_width value_wrong_length query_rank_3 query_int64 value_truncated query_not_npy)
  course_expect_error(ch02_dot_product_attention load_${case} --load chapters/02_dot_product_attention/fixtures/bad/${case})
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case attention_no_keys attention_zero_width attention_value_zero_width attention_query_zero_by_huge
             attention_query_nan attention_key_inf attention_query_1e300 attention_value_1e300
             attention_key_above_limit attention_query_bool attention_query_int64 attention_query_0d)
  course_expect_error(ch02_dot_product_attention load_${case} --load tests/fixtures/bad_common/${case})
endforeach()
foreach(kind directory fifo devzero loop dangling)
  course_expect_error_special(ch02_dot_product_attention load_query_${kind} ${kind} query.npy
                              chapters/02_dot_product_attention/fixtures/small)
endforeach()
course_expect_error(ch02_dot_product_attention load_dir_is_a_file --load chapters/02_dot_product_attention/fixtures/small/query.npy)
course_expect_error(ch02_dot_product_attention load_10kB_dir --load ${ten_kb_word})
# values at the loaders' bound (1e15) compute without overflow and pass the self-checks
add_test(NAME ch02.load_values_at_limit
         COMMAND ch02_dot_product_attention --load ${PROJECT_SOURCE_DIR}/tests/fixtures/bad_common/attention_values_at_limit)
set_tests_properties(ch02.load_values_at_limit PROPERTIES LABELS "ch02")

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch02_dot_product_attention limit_samples_1 "--samples: 1 is out of range.*at least 1000: fewer measure the variance too roughly"
                    --samples 1)
course_expect_limit(ch02_dot_product_attention limit_samples_19 "--samples: 19 is out of range.*at least 1000"
                    --samples 19)
course_expect_limit(ch02_dot_product_attention limit_d_max_1 "--d-max: 1 is out of range.*at least 4: the variance must be seen growing"
                    --d-max 1)
course_expect_limit(ch02_dot_product_attention limit_samples_range "--samples: 1000000 is out of range"
                    --samples 1000000)
course_expect_limit(ch02_dot_product_attention limit_work "--samples 5000 --keys 50 --d-max 1024 would take [0-9.e+]+ multiply-adds"
                    --samples 5000 --keys 50)

# A file the layout does not read is an error, named (common/npy.hpp, require_no_unread_files): here a
# mask, which chapter 02 has no use for.
course_expect_error_special(ch02_dot_product_attention load_stray_mask copy:key.npy attn_mask.npy
                            chapters/02_dot_product_attention/fixtures/small)
# Writing is checked too (common/files.hpp, create_checked): a FIFO where --save would write output.npy,
# or where --svg would write a figure, would block the program until a reader came; it is refused by
# name.
course_expect_error_special(ch02_dot_product_attention save_output_fifo fifo output.npy chapters/02_dot_product_attention/fixtures/small
                            --load @DIR@ --save @DIR@)
course_expect_error_special(ch02_dot_product_attention svg_figure_fifo fifo 02-saturation.svg
                            chapters/02_dot_product_attention/fixtures/small --svg @DIR@)
