# Chapter 17 program: PyTorch's TinyGPT (fixtures by chapters/17_fast_generation/make_fixtures.py) decoded with the KV cache
# — a prefill of P = 0, 1, T/2 (the default) and T tokens, then one at a time — whose logits must equal
# PyTorch's full forward to 1e-9; bad input (the malformed --load files are chapter 16's, chapters/16_tiny_gpt/fixtures/bad/).
foreach(case prefill_zero prefill_one prefill_default prefill_all)
  course_interop_test(ch17_fast_generation chapters/17_fast_generation/fixtures/${case} logits.npy)
endforeach()

course_expect_error(ch17_fast_generation data_missing --data /nonexistent/tang300)
course_expect_error(ch17_fast_generation kv_heads_not_dividing --kv-heads 3)
course_expect_error(ch17_fast_generation kv_heads_zero --kv-heads 0)
course_expect_error(ch17_fast_generation window_zero --window 0)
course_expect_error(ch17_fast_generation window_past_context --window 33)
course_expect_error(ch17_fast_generation temperature_zero --temperature 0)
course_expect_error(ch17_fast_generation temperature_negative --temperature -1)
course_expect_error(ch17_fast_generation temperature_nan --temperature nan)
course_expect_error(ch17_fast_generation temperature_inf --temperature inf)
course_expect_error(ch17_fast_generation top_k_zero --top-k 0)
course_expect_error(ch17_fast_generation train_steps_zero --train-steps 0)
course_expect_error(ch17_fast_generation train_steps_huge --train-steps 1000000)
course_expect_error(ch17_fast_generation heads_without_load --heads 2)
course_expect_error(ch17_fast_generation prefill_without_load --prefill 2)
course_expect_error(ch17_fast_generation save_without_load --save /tmp/ch17_never_written)
course_expect_error(ch17_fast_generation load_missing_dir --load no_such_dir)
course_expect_error(ch17_fast_generation load_prefill_beyond_t --load chapters/17_fast_generation/fixtures/prefill_zero --heads 2
                    --prefill 7)
course_expect_error(ch17_fast_generation load_prefill_negative --load chapters/17_fast_generation/fixtures/prefill_zero --heads 2
                    --prefill -1)
course_expect_error(ch17_fast_generation load_heads_not_dividing --load chapters/17_fast_generation/fixtures/prefill_zero --heads 3)
course_expect_error(ch17_fast_generation load_with_kv_heads --load chapters/17_fast_generation/fixtures/prefill_zero --heads 2
                    --kv-heads 1)
course_expect_error(ch17_fast_generation load_with_window --load chapters/17_fast_generation/fixtures/prefill_zero --heads 2
                    --window 2)
foreach(case idx_out_of_vocab idx_negative idx_longer_than_context idx_float idx_int32 idx_empty missing_norm_bias
             missing_head missing_block_key head_wrong_vocab pos_wrong_width in_proj_wrong_shape no_blocks)
  course_expect_error(ch17_fast_generation load_${case} --load chapters/16_tiny_gpt/fixtures/bad/${case} --heads 2)
endforeach()

# --data through the checked opener (common/files.hpp), and the TinyGPT's blocks counted from every
# file (count_numbered_layers), as in chapter 16.
course_expect_error(ch17_fast_generation data_dev_zero --data /dev/zero)
foreach(kind fifo size:11000000)
  string(REPLACE ":" "_" name ${kind})
  course_expect_error_special(ch17_fast_generation data_${name} ${kind} tang300 chapters/16_tiny_gpt/fixtures/bad/data --data @DIR@/tang300)
endforeach()
course_expect_error_special(ch17_fast_generation load_partial_block absent blocks.1.self_attn.in_proj_weight.npy
                            chapters/16_tiny_gpt/fixtures/two_layers --heads 3)
course_expect_error_special(ch17_fast_generation load_block_past_a_gap copy:blocks.1.norm2.bias.npy
                            blocks.7.norm2.bias.npy chapters/16_tiny_gpt/fixtures/two_layers --heads 3)
