# Chapter 14 program: the encoder layer's gradients and AdamW steps, and the tiny encoder's first
# steps, against PyTorch (fixtures by chapters/14_training/make_fixtures.py); bad input.
set(ch14_keys self_attn.in_proj_weight self_attn.in_proj_bias self_attn.out_proj.weight self_attn.out_proj.bias
              linear1.weight linear1.bias linear2.weight linear2.bias norm1.weight norm1.bias norm2.weight
              norm2.bias)
set(ch14_grads output.npy src.grad.npy)
foreach(key IN LISTS ch14_keys)
  list(APPEND ch14_grads ${key}.grad.npy)
endforeach()
foreach(case post_norm pre_norm post_norm_4_heads pre_norm_1_head)
  course_interop_test(ch14_training chapters/14_training/fixtures/grad_${case} ${ch14_grads})
endforeach()

# Training runs: losses.npy to 1e-9, the parameters after the last step (every <key>.npy the program
# writes, compared with expected/<key>.npy) to 1e-8.
function(ch14_training_test case)
  set(dir ${PROJECT_SOURCE_DIR}/chapters/14_training/fixtures/${case})
  add_test(NAME ch14.interop.${case}
           COMMAND bash -c "set -e; d=$(mktemp -d); trap 'rm -rf $d' EXIT
                            read -r -a args < '${dir}/args.txt'
                            '$<TARGET_FILE:ch14_training>' --no-color --load '${dir}' --save $d \"\${args[@]}\" >/dev/null
                            '$<TARGET_FILE:npy_allclose>' $d/losses.npy '${dir}/expected/losses.npy' 1e-9
                            n=0
                            for f in '${dir}'/expected/*.npy; do
                              name=$(basename \"$f\")
                              [ \"$name\" = losses.npy ] && continue
                              '$<TARGET_FILE:npy_allclose>' \"$d/$name\" \"$f\" 1e-8
                              n=$((n + 1))
                            done
                            [ $n -ge 12 ]")
  set_tests_properties(ch14.interop.${case} PROPERTIES LABELS "ch14;interop")
endfunction()
ch14_training_test(train_post_norm)
ch14_training_test(train_pre_norm)
ch14_training_test(first_steps)

course_expect_error(ch14_training train_steps_zero --train-steps 0)
course_expect_error(ch14_training train_steps_huge --train-steps 1000000)
course_expect_error(ch14_training train_steps_huge_full --full --train-steps 1000000)
course_expect_error(ch14_training train_steps_not_a_number --train-steps many)
course_expect_error(ch14_training lr_nan --lr nan)
course_expect_error(ch14_training lr_negative --lr -0.001)
course_expect_error(ch14_training lr_zero --lr 0)
course_expect_error(ch14_training lr_inf --lr inf)
course_expect_error(ch14_training lr_too_large --lr 5)
course_expect_error(ch14_training weight_decay_negative --weight-decay -0.01)
course_expect_error(ch14_training weight_decay_nan --weight-decay nan)
course_expect_error(ch14_training heads_without_load --heads 2)
course_expect_error(ch14_training norm_first_without_load --norm-first)
course_expect_error(ch14_training save_without_load --save /tmp/ch14_never_written)
course_expect_error(ch14_training load_missing_dir --load no_such_dir)
course_expect_error(ch14_training load_with_full --load chapters/14_training/fixtures/grad_post_norm --full)
course_expect_error(ch14_training load_heads_not_dividing --load chapters/14_training/fixtures/grad_post_norm --heads 3)
course_expect_error(ch14_training load_grad_with_train_steps --load chapters/14_training/fixtures/grad_post_norm --heads 2 --train-steps 3)
course_expect_error(ch14_training load_train_steps_huge --load chapters/14_training/fixtures/train_post_norm --heads 2 --train-steps 1000000)
course_expect_error(ch14_training load_first_steps_with_train_steps --load chapters/14_training/fixtures/first_steps --train-steps 3)
course_expect_error(ch14_training load_first_steps_heads_not_dividing --load chapters/14_training/fixtures/first_steps --heads 3)
course_expect_error(ch14_training load_layer_norm_files --load chapters/14_training/fixtures/layer_norm)
foreach(case grad_output_wrong_shape grad_output_rank_1 grad_output_nan target_wrong_shape
             neither_grad_output_nor_target both_grad_output_and_target norm2_bias_wrong_length)
  course_expect_error(ch14_training load_${case} --load chapters/14_training/fixtures/bad/${case} --heads 2)
endforeach()
foreach(case inputs_id_too_large inputs_float targets_wrong_shape inputs_wrong_length missing_layer_key
             head_weight_wrong_vocab losses_wrong_length)
  course_expect_error(ch14_training load_${case} --load chapters/14_training/fixtures/bad/${case} --heads 2)
endforeach()
# the malformed encoder-layer files of chapter 11 serve here too
foreach(case linear1_weight_wrong_shape norm1_weight_wrong_length src_wrong_width in_proj_weight_int64
             missing_linear2_bias)
  course_expect_error(ch14_training load_11_${case} --load chapters/11_transformer_block/fixtures/bad/${case} --heads 2)
endforeach()

# Files the layout does not read are errors (require_no_unread_files), and the layers of the tiny
# encoder are counted from every layers.N.* file (count_numbered_layers): a partial layer, or a layer
# past a gap, is an error naming the file or layer that is missing.
course_expect_error_special(ch14_training load_grad_stray_file copy:src.npy src_mask.npy chapters/14_training/fixtures/grad_post_norm
                            --heads 2)
course_expect_error_special(ch14_training load_train_stray_file copy:src.npy src_mask.npy chapters/14_training/fixtures/train_post_norm
                            --heads 2)
course_expect_error_special(ch14_training load_first_steps_partial_layer absent layers.1.self_attn.in_proj_weight.npy
                            chapters/14_training/fixtures/first_steps)
course_expect_error_special(ch14_training load_first_steps_layer_past_a_gap copy:layers.1.linear1.bias.npy
                            layers.7.linear1.bias.npy chapters/14_training/fixtures/first_steps)
# losses.npy is PyTorch's for the flags of args.txt: other valid flags train without comparing, and
# say so (exit 0), instead of failing a self-check. args.txt is read through the checked opener, and
# what is not a flag of these files is an error.
course_expect_error_special(ch14_training load_first_steps_args_fifo fifo args.txt chapters/14_training/fixtures/first_steps)
course_expect_error_special(ch14_training load_first_steps_args_not_flags copy:inputs.npy args.txt
                            chapters/14_training/fixtures/first_steps)
foreach(flags "--lr;0.01" "--heads;1" "--norm-first" "--weight-decay;0")
  string(REPLACE ";" "_" name "${flags}")
  string(REPLACE "-" "" name "${name}")
  add_test(NAME ch14.first_steps_other_flags_${name}
           COMMAND bash -c "out=$('$<TARGET_FILE:ch14_training>' --no-color --load first_steps $* 2>&1) || exit 1
                            grep -q 'not compared with losses.npy: PyTorch made it with' <<<\"$out\""
                   ch14 ${flags}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}/chapters/14_training/fixtures)
  set_tests_properties(ch14.first_steps_other_flags_${name} PROPERTIES LABELS "ch14")
endforeach()
