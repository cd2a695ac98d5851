# Chapter 09 program: torch.nn.functional.conv1d / conv2d (fixtures by tools/make_fixtures_09.py)
# and bad input.
foreach(case conv1d_plain conv1d_stride_padding conv1d_dilation_no_bias conv2d_plain conv2d_stride_padding
             conv2d_dilation conv2d_1x1_no_bias)
  course_interop_test(ch09_attention_vs_cnn 09_attention_vs_cnn/${case} output.npy)
endforeach()

course_expect_error(ch09_attention_vs_cnn stride_zero --load 09_attention_vs_cnn/conv1d_plain --stride 0)
course_expect_error(ch09_attention_vs_cnn dilation_zero --load 09_attention_vs_cnn/conv2d_plain --dilation 0)
course_expect_error(ch09_attention_vs_cnn padding_negative --load 09_attention_vs_cnn/conv1d_plain --padding -1)
course_expect_error(ch09_attention_vs_cnn dilation_not_a_number --load 09_attention_vs_cnn/conv1d_plain
                    --dilation two)
course_expect_error(ch09_attention_vs_cnn stride_without_load --stride 2)
course_expect_error(ch09_attention_vs_cnn seq_len_zero --seq-len 0)
course_expect_error(ch09_attention_vs_cnn seq_len_too_large --seq-len 2000)
course_expect_error(ch09_attention_vs_cnn depth_zero --depth 0)
course_expect_error(ch09_attention_vs_cnn output_needs_gigabytes --load 09_attention_vs_cnn/conv2d_plain
                    --padding 100000)
course_expect_error(ch09_attention_vs_cnn kernel_larger_than_dilated_input --load 09_attention_vs_cnn/conv2d_plain
                    --dilation 10)
course_expect_error(ch09_attention_vs_cnn load_missing_dir --load no_such_dir)
foreach(case kernel_too_large channels_differ weight_rank_mismatch bias_wrong_length missing_input input_truncated
             input_int_dtype input_rank_1)
  course_expect_error(ch09_attention_vs_cnn load_${case} --load bad_09/${case})
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
# a kernel of size 0 made "the kernel spans 0" (and, dilated, "spans 18446744073709551615")
course_expect_error(ch09_attention_vs_cnn load_conv1d_kernel_zero --load bad_common/conv1d_kernel_zero)
course_expect_error(ch09_attention_vs_cnn load_conv1d_kernel_zero_dilated --load bad_common/conv1d_kernel_zero
                    --dilation 2)
foreach(case conv2d_kernel_zero_width conv2d_input_1e300 conv1d_bias_inf conv1d_input_no_channels)
  course_expect_error(ch09_attention_vs_cnn load_${case} --load bad_common/${case})
endforeach()
foreach(kind directory fifo devzero loop)
  course_expect_error_special(ch09_attention_vs_cnn load_input_${kind} ${kind} input.npy 09_attention_vs_cnn/conv2d_plain)
endforeach()
course_expect_error_special(ch09_attention_vs_cnn load_bias_dangling dangling bias.npy 09_attention_vs_cnn/conv1d_plain)
