# Chapter 16 program: PyTorch's TinyGPT (fixtures by chapters/16_tiny_gpt/make_fixtures.py) — logits, and with
# targets.npy the loss and every state_dict entry's gradient, to 1e-9; bad input.
set(ch16_block_keys self_attn.in_proj_weight self_attn.in_proj_bias self_attn.out_proj.weight self_attn.out_proj.bias
                    linear1.weight linear1.bias linear2.weight linear2.bias norm1.weight norm1.bias norm2.weight
                    norm2.bias)
function(ch16_interop case blocks)
  set(outputs logits.npy loss.npy tok.weight.grad.npy pos.weight.grad.npy norm.weight.grad.npy norm.bias.grad.npy
              head.weight.grad.npy)
  math(EXPR last "${blocks} - 1")
  foreach(b RANGE ${last})
    foreach(key IN LISTS ch16_block_keys)
      list(APPEND outputs blocks.${b}.${key}.grad.npy)
    endforeach()
  endforeach()
  course_interop_test(ch16_tiny_gpt chapters/16_tiny_gpt/fixtures/${case} ${outputs})
endfunction()
ch16_interop(one_layer 1)
ch16_interop(two_layers 2)
ch16_interop(four_heads_short 1)
course_interop_test(ch16_tiny_gpt chapters/16_tiny_gpt/fixtures/logits_only logits.npy)

course_expect_error(ch16_tiny_gpt data_missing --data /nonexistent/tang300)
course_expect_error(ch16_tiny_gpt temperature_zero --temperature 0)
course_expect_error(ch16_tiny_gpt temperature_negative --temperature -1)
course_expect_error(ch16_tiny_gpt temperature_nan --temperature nan)
course_expect_error(ch16_tiny_gpt top_k_zero --top-k 0)
course_expect_error(ch16_tiny_gpt top_k_not_a_number --top-k ten)
course_expect_error(ch16_tiny_gpt train_steps_zero --train-steps 0)
course_expect_error(ch16_tiny_gpt train_steps_huge --train-steps 1000000)
course_expect_error(ch16_tiny_gpt train_steps_huge_full --full --train-steps 1000000)
course_expect_error(ch16_tiny_gpt lr_zero --lr 0)
course_expect_error(ch16_tiny_gpt lr_nan --lr nan)
course_expect_error(ch16_tiny_gpt lr_huge --lr 5)
course_expect_error(ch16_tiny_gpt weight_decay_negative --weight-decay -1)
course_expect_error(ch16_tiny_gpt weight_decay_inf --weight-decay inf)
course_expect_error(ch16_tiny_gpt warmup_negative --warmup -1)
course_expect_error(ch16_tiny_gpt clip_negative --clip -0.5)
course_expect_error(ch16_tiny_gpt clip_nan --clip nan)
course_expect_error(ch16_tiny_gpt seeds_zero --seeds 0)
course_expect_error(ch16_tiny_gpt seeds_too_many --seeds 11)
course_expect_error(ch16_tiny_gpt seeds_too_costly --seeds 10 --train-steps 50)
course_expect_error(ch16_tiny_gpt cosine_both --cosine --no-cosine)
course_expect_error(ch16_tiny_gpt tie_both --tie-weights --untie-weights)
course_expect_error(ch16_tiny_gpt decay_both --decay-all --decay-matrices-only)
course_expect_error(ch16_tiny_gpt heads_without_load --heads 2)
course_expect_error(ch16_tiny_gpt save_without_load --save /tmp/ch16_never_written)
course_expect_error(ch16_tiny_gpt load_missing_dir --load no_such_dir)
course_expect_error(ch16_tiny_gpt load_with_full --load chapters/16_tiny_gpt/fixtures/one_layer --full)
course_expect_error(ch16_tiny_gpt load_with_validation_only --load chapters/16_tiny_gpt/fixtures/one_layer --validation-only)
course_expect_error(ch16_tiny_gpt load_heads_not_dividing --load chapters/16_tiny_gpt/fixtures/one_layer --heads 3)
foreach(case idx_out_of_vocab idx_negative idx_longer_than_context idx_float idx_int32 idx_empty targets_wrong_length
             targets_out_of_vocab missing_norm_bias missing_head missing_block_key head_wrong_vocab pos_wrong_width
             in_proj_wrong_shape no_blocks)
  course_expect_error(ch16_tiny_gpt load_${case} --load chapters/16_tiny_gpt/fixtures/bad/${case} --heads 2)
endforeach()
# --data files that are not the poems (chapters/16_tiny_gpt/fixtures/bad/data/, written by hand)
course_expect_error(ch16_tiny_gpt data_is_a_directory --data chapters/16_tiny_gpt/fixtures/bad/data)
foreach(case too_short no_author not_utf8)
  course_expect_error(ch16_tiny_gpt data_${case} --data chapters/16_tiny_gpt/fixtures/bad/data/tang300_${case})
endforeach()

# --data goes through the checked opener (common/files.hpp): a FIFO would block, /dev/zero never ends,
# a file of 11 MB is not the poems; each is one line, exit 2, before anything is read.
course_expect_error(ch16_tiny_gpt data_dev_zero --data /dev/zero)
foreach(kind fifo devzero loop size:11000000)
  string(REPLACE ":" "_" name ${kind})
  course_expect_error_special(ch16_tiny_gpt data_${name} ${kind} tang300 chapters/16_tiny_gpt/fixtures/bad/data --data @DIR@/tang300)
endforeach()
# Blocks are counted from every blocks.N.* file (count_numbered_layers): a block without one of its
# twelve keys, and a block past a gap (blocks.7.* beside two blocks), are errors, as is any file the
# TinyGPT does not read (require_no_unread_files), as in PyTorch's strict load_state_dict.
course_expect_error_special(ch16_tiny_gpt load_partial_block absent blocks.1.self_attn.in_proj_weight.npy
                            chapters/16_tiny_gpt/fixtures/two_layers --heads 3)
course_expect_error_special(ch16_tiny_gpt load_block_past_a_gap copy:blocks.1.norm2.bias.npy blocks.7.norm2.bias.npy
                            chapters/16_tiny_gpt/fixtures/two_layers --heads 3)
course_expect_error_special(ch16_tiny_gpt load_block_unknown_key copy:blocks.1.norm2.bias.npy blocks.1.norm3.bias.npy
                            chapters/16_tiny_gpt/fixtures/two_layers --heads 3)

# The docs' --full block and its figures (docs/figures/16-full/) are checked by ch16.docs_full
# (long_run = true in chapters.toml; tools/docs_output.py --long).
