# Chapter 10 program: torch.nn.RNN (fixtures by chapters/10_attention_vs_rnn/make_fixtures.py) and bad input.
foreach(case zero_h0 with_h0 long one_step float32)
  course_interop_test(ch10_attention_vs_rnn chapters/10_attention_vs_rnn/fixtures/${case} output.npy h_n.npy)
endforeach()

course_expect_error(ch10_attention_vs_rnn seq_len_zero --seq-len 0)
course_expect_error(ch10_attention_vs_rnn d_model_not_a_number --d-model wide)
course_expect_error(ch10_attention_vs_rnn kernel_one --kernel 1)
course_expect_error(ch10_attention_vs_rnn needs_gigabytes --seq-len 100000)
course_expect_error(ch10_attention_vs_rnn table_too_long --seq-len 3000)
course_expect_error(ch10_attention_vs_rnn load_missing_dir --load no_such_dir)
foreach(case weight_hh_wrong_shape input_wrong_width h0_wrong_shape missing_bias_hh weight_ih_truncated
             missing_input weight_ih_wrong_rank bias_ih_wrong_rank input_bool input_int64 empty_input)
  course_expect_error(ch10_attention_vs_rnn load_${case} --load chapters/10_attention_vs_rnn/fixtures/bad/${case})
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
foreach(case rnn_h0_nan rnn_weight_hh_1e300 rnn_no_hidden_units)
  course_expect_error(ch10_attention_vs_rnn load_${case} --load tests/fixtures/bad_common/${case})
endforeach()
# an optional file (h0.npy) that is there but unusable is reported, not skipped
foreach(kind directory fifo loop dangling)
  course_expect_error_special(ch10_attention_vs_rnn load_h0_${kind} ${kind} h0.npy chapters/10_attention_vs_rnn/fixtures/with_h0)
endforeach()

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch10_attention_vs_rnn limit_seq_len_2 "--seq-len: 2 is out of range.*at least 3: section 3 compares outputs 1 .. n-1"
                    --seq-len 2)
course_expect_limit(ch10_attention_vs_rnn limit_kernel_1 "--kernel: 1 is out of range.*at least 2: a convolution of width 1 never connects"
                    --kernel 1)
course_expect_limit(ch10_attention_vs_rnn limit_seq_len_range "--seq-len: 100000 is out of range"
                    --seq-len 100000)
course_expect_limit(ch10_attention_vs_rnn limit_work "--seq-len 800 --d-model 100 --kernel 3 would take [0-9.e+]+ multiply-adds"
                    --seq-len 800 --d-model 100)

# A misnamed optional h0 is an error, not a zero initial state used silently (require_no_unread_files).
course_expect_error_special(ch10_attention_vs_rnn load_misnamed_h0 copy:h0.npy h_0.npy chapters/10_attention_vs_rnn/fixtures/with_h0)
