# Chapter 18 program: PyTorch's TinyGPT with LoRA adapters (--load; fixtures by
# chapters/18_pretrain_finetune/make_fixtures.py) — logits, loss and the gradients of every block's four
# adapters, to 1e-9; bad input (course_expect_error: tests/CMakeLists.txt).
function(ch18_interop case blocks)
  set(outputs logits.npy loss.npy)
  math(EXPR last "${blocks} - 1")
  foreach(b RANGE ${last})
    foreach(key in_proj_lora_A in_proj_lora_B out_proj.lora_A out_proj.lora_B)
      list(APPEND outputs blocks.${b}.self_attn.${key}.grad.npy)
    endforeach()
  endforeach()
  course_interop_test(ch18_pretrain_finetune chapters/18_pretrain_finetune/fixtures/${case} ${outputs})
endfunction()
ch18_interop(one_layer_rank2 1)
ch18_interop(two_layers_rank1 2)
ch18_interop(rank_equals_width 1)
ch18_interop(float32 2)

course_expect_error(ch18_pretrain_finetune fortunes_missing --fortunes /nonexistent)
course_expect_error(ch18_pretrain_finetune fortunes_is_a_file --fortunes /etc/hostname)
course_expect_error(ch18_pretrain_finetune rank_zero --rank 0)
course_expect_error(ch18_pretrain_finetune rank_above_width --rank 9)
course_expect_error(ch18_pretrain_finetune rank_not_a_number --rank two)
course_expect_error(ch18_pretrain_finetune alpha_zero --lora-alpha 0)
course_expect_error(ch18_pretrain_finetune alpha_negative --lora-alpha -1)
course_expect_error(ch18_pretrain_finetune alpha_nan --lora-alpha nan)
course_expect_error(ch18_pretrain_finetune pretrain_steps_zero --pretrain-steps 0)
course_expect_error(ch18_pretrain_finetune pretrain_steps_not_a_number --pretrain-steps many)
course_expect_error(ch18_pretrain_finetune pretrain_steps_huge --pretrain-steps 100000)
course_expect_error(ch18_pretrain_finetune pretrain_steps_thousand --pretrain-steps 1000)
course_expect_error(ch18_pretrain_finetune finetune_steps_zero --finetune-steps 0)
course_expect_error(ch18_pretrain_finetune finetune_steps_huge --finetune-steps 100000)
course_expect_error(ch18_pretrain_finetune full_steps_huge --full --pretrain-steps 1000000)
course_expect_error(ch18_pretrain_finetune seeds_zero --seeds 0)
course_expect_error(ch18_pretrain_finetune seeds_eleven --seeds 11)

# --load: the flags
set(ch18_one chapters/18_pretrain_finetune/fixtures/one_layer_rank2)
course_expect_error(ch18_pretrain_finetune heads_without_load --heads 2)
course_expect_error(ch18_pretrain_finetune save_without_load --save /tmp/ch18_never_written)
course_expect_error(ch18_pretrain_finetune load_missing_dir --load no_such_dir)
course_expect_error(ch18_pretrain_finetune load_with_rank --load ${ch18_one} --heads 2 --rank 2)
course_expect_error(ch18_pretrain_finetune load_with_full --load ${ch18_one} --heads 2 --full)
course_expect_error(ch18_pretrain_finetune load_with_pretrain_steps --load ${ch18_one} --heads 2 --pretrain-steps 5)
course_expect_error(ch18_pretrain_finetune load_with_finetune_steps --load ${ch18_one} --heads 2 --finetune-steps 5)
course_expect_error(ch18_pretrain_finetune load_with_seeds --load ${ch18_one} --heads 2 --seeds 2)
course_expect_error(ch18_pretrain_finetune load_heads_not_dividing --load ${ch18_one} --heads 3)
foreach(alpha 0 -1 nan inf)
  course_expect_error(ch18_pretrain_finetune load_alpha_${alpha} --load ${ch18_one} --heads 2 --lora-alpha ${alpha})
endforeach()
# --load: malformed adapters (make_fixtures.py): a rank of 0 or above E, shapes that do not fit, ranks
# that differ, an adapter for a block the model lacks, a missing adapter
foreach(case rank_zero rank_above_width in_proj_A_wrong_width in_proj_B_wrong_rows out_proj_B_wrong_rank ranks_differ
             adapter_for_missing_block missing_out_proj_B missing_all_adapters)
  course_expect_error(ch18_pretrain_finetune load_${case} --load chapters/18_pretrain_finetune/fixtures/bad/${case}
                      --heads 2)
endforeach()
# ... and made at test time: targets.npy missing (chapter 18's files always have it), one adapter of the
# second block missing, an adapter for a block far past the last, a base parameter's gradient among the
# files (only the adapters' are outputs), an adapter that is a FIFO
set(ch18_two chapters/18_pretrain_finetune/fixtures/two_layers_rank1)
course_expect_error_special(ch18_pretrain_finetune load_no_targets absent targets.npy ${ch18_one} --heads 2)
course_expect_error_special(ch18_pretrain_finetune load_block1_missing_in_proj_B absent
                            blocks.1.self_attn.in_proj_lora_B.npy ${ch18_two} --heads 3)
course_expect_error_special(ch18_pretrain_finetune load_adapter_for_block_7 copy:blocks.1.self_attn.out_proj.lora_A.npy
                            blocks.7.self_attn.out_proj.lora_A.npy ${ch18_two} --heads 3)
course_expect_error_special(ch18_pretrain_finetune load_base_gradient copy:blocks.0.self_attn.in_proj_weight.npy
                            blocks.0.self_attn.in_proj_weight.grad.npy ${ch18_one} --heads 2)
course_expect_error_special(ch18_pretrain_finetune load_adapter_fifo fifo blocks.0.self_attn.out_proj.lora_B.npy
                            ${ch18_one} --heads 2)
