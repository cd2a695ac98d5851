# Chapter 15 program: backpropagation through time against PyTorch's autograd (fixtures by
# chapters/15_rnn_to_attention/make_fixtures.py), and bad input.
foreach(case with_h0 zero_h0 one_step long float32)
  course_interop_test(ch15_rnn_to_attention chapters/15_rnn_to_attention/fixtures/rnn_${case}
                      output.npy h_n.npy input.grad.npy h0.grad.npy weight_ih_l0.grad.npy weight_hh_l0.grad.npy
                      bias_ih_l0.grad.npy bias_hh_l0.grad.npy)
endforeach()

course_expect_error(ch15_rnn_to_attention max_len_beyond_generator --max-len 31)
course_expect_error(ch15_rnn_to_attention max_len_zero --max-len 0)
course_expect_error(ch15_rnn_to_attention hidden_zero --hidden 0)
course_expect_error(ch15_rnn_to_attention hidden_huge --hidden 100000)
course_expect_error(ch15_rnn_to_attention train_steps_zero --train-steps 0)
course_expect_error(ch15_rnn_to_attention train_steps_huge --train-steps 100000000)
course_expect_error(ch15_rnn_to_attention batch_zero --batch 0)
course_expect_error(ch15_rnn_to_attention lr_nan --lr nan)
course_expect_error(ch15_rnn_to_attention lr_negative --lr -0.01)
course_expect_error(ch15_rnn_to_attention lr_zero --lr 0)
course_expect_error(ch15_rnn_to_attention lr_above_one --lr 2)
course_expect_error(ch15_rnn_to_attention lr_not_a_number --lr fast)
course_expect_error(ch15_rnn_to_attention full_with_sizes --full --batch 8)
course_expect_error(ch15_rnn_to_attention full_hidden_over_limit --full --hidden 55)
course_expect_error(ch15_rnn_to_attention save_without_load --save out)
course_expect_error(ch15_rnn_to_attention load_missing_dir --load no_such_dir)
course_expect_error(ch15_rnn_to_attention load_no_grad_output_10 --load chapters/10_attention_vs_rnn/fixtures/with_h0)
foreach(case missing_grad_output grad_output_wrong_rows grad_output_wrong_cols grad_output_rank_1 grad_output_nan
             weight_hh_mismatched weight_ih_mismatched)
  course_expect_error(ch15_rnn_to_attention load_${case} --load chapters/15_rnn_to_attention/fixtures/bad/${case})
endforeach()
# chapter 10's malformed RNN files serve here too (their other files are fine)
foreach(case weight_hh_wrong_shape input_wrong_width h0_wrong_shape missing_bias_hh weight_ih_truncated
             missing_input input_int64 empty_input)
  course_expect_error(ch15_rnn_to_attention load_10_${case} --load chapters/10_attention_vs_rnn/fixtures/bad/${case})
endforeach()
foreach(kind directory fifo devzero loop dangling)
  course_expect_error_special(ch15_rnn_to_attention load_grad_output_${kind} ${kind} grad_output.npy
                              chapters/15_rnn_to_attention/fixtures/rnn_with_h0)
endforeach()

# Deterministic to the bit: two tiny runs with the same seed print the same losses and accuracies.
add_test(NAME ch15.deterministic
         COMMAND bash -c "set -e; a=$('$<TARGET_FILE:ch15_rnn_to_attention>' --no-color --max-len 4 --train-steps 20)
                          b=$('$<TARGET_FILE:ch15_rnn_to_attention>' --no-color --max-len 4 --train-steps 20)
                          [ \"$a\" = \"$b\" ]")
set_tests_properties(ch15.deterministic PROPERTIES LABELS "ch15")

# Small and odd hidden sizes are valid: model (d)'s width is then rounded to an even E >= 2 (the
# sinusoidal positions need it), so every self-check passes and nothing is printed on stderr.
add_test(NAME ch15.small_hidden_sizes
         COMMAND bash -c "set -e; for h in 1 2 3 5; do
                            err=$('$<TARGET_FILE:ch15_rnn_to_attention>' --no-color --hidden $h --train-steps 5 2>&1 >/dev/null)
                            [ -z \"$err\" ] || { echo \"--hidden $h: $err\"; exit 1; }
                          done")
set_tests_properties(ch15.small_hidden_sizes PROPERTIES LABELS "ch15")

# A misnamed optional h0 is an error, not a zero initial state used silently (require_no_unread_files).
course_expect_error_special(ch15_rnn_to_attention load_misnamed_h0 copy:h0.npy h_0.npy chapters/15_rnn_to_attention/fixtures/rnn_with_h0)

# The docs' --full block and its figures (docs/figures/15-full/) are checked by ch15.docs_full
# (long_run = true in chapters.toml; tools/docs_output.py --long).
