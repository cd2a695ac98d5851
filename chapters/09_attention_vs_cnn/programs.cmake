# Chapter 09 program: torch.nn.functional.conv1d / conv2d (fixtures by chapters/09_attention_vs_cnn/make_fixtures.py)
# and bad input.
foreach(case conv1d_plain conv1d_stride_padding conv1d_dilation_no_bias conv2d_plain conv2d_stride_padding
             conv2d_dilation conv2d_1x1_no_bias)
  course_interop_test(ch09_attention_vs_cnn chapters/09_attention_vs_cnn/fixtures/${case} output.npy)
endforeach()

course_expect_error(ch09_attention_vs_cnn stride_zero --load chapters/09_attention_vs_cnn/fixtures/conv1d_plain --stride 0)
course_expect_error(ch09_attention_vs_cnn dilation_zero --load chapters/09_attention_vs_cnn/fixtures/conv2d_plain --dilation 0)
course_expect_error(ch09_attention_vs_cnn padding_negative --load chapters/09_attention_vs_cnn/fixtures/conv1d_plain --padding -1)
course_expect_error(ch09_attention_vs_cnn dilation_not_a_number --load chapters/09_attention_vs_cnn/fixtures/conv1d_plain
                    --dilation two)
course_expect_error(ch09_attention_vs_cnn stride_without_load --stride 2)
course_expect_error(ch09_attention_vs_cnn seq_len_zero --seq-len 0)
course_expect_error(ch09_attention_vs_cnn seq_len_too_large --seq-len 2000)
course_expect_error(ch09_attention_vs_cnn depth_zero --depth 0)
course_expect_error(ch09_attention_vs_cnn output_needs_gigabytes --load chapters/09_attention_vs_cnn/fixtures/conv2d_plain
                    --padding 100000)
course_expect_error(ch09_attention_vs_cnn kernel_larger_than_dilated_input --load chapters/09_attention_vs_cnn/fixtures/conv2d_plain
                    --dilation 10)
course_expect_error(ch09_attention_vs_cnn load_missing_dir --load no_such_dir)
foreach(case kernel_too_large channels_differ weight_rank_mismatch bias_wrong_length missing_input input_truncated
             input_int_dtype input_rank_1)
  course_expect_error(ch09_attention_vs_cnn load_${case} --load chapters/09_attention_vs_cnn/fixtures/bad/${case})
endforeach()

# --- Malformed and extreme inputs through the shared loaders (common/npy.hpp; fixtures by
# tools/make_bad_fixtures.py, special files made at test time by tools/expect_error_special.sh) ---
# a kernel of size 0 made "the kernel spans 0" (and, dilated, "spans 18446744073709551615")
course_expect_error(ch09_attention_vs_cnn load_conv1d_kernel_zero --load tests/fixtures/bad_common/conv1d_kernel_zero)
course_expect_error(ch09_attention_vs_cnn load_conv1d_kernel_zero_dilated --load tests/fixtures/bad_common/conv1d_kernel_zero
                    --dilation 2)
foreach(case conv2d_kernel_zero_width conv2d_input_1e300 conv1d_bias_inf conv1d_input_no_channels)
  course_expect_error(ch09_attention_vs_cnn load_${case} --load tests/fixtures/bad_common/${case})
endforeach()
foreach(kind directory fifo devzero loop)
  course_expect_error_special(ch09_attention_vs_cnn load_input_${kind} ${kind} input.npy chapters/09_attention_vs_cnn/fixtures/conv2d_plain)
endforeach()
course_expect_error_special(ch09_attention_vs_cnn load_bias_dangling dangling bias.npy chapters/09_attention_vs_cnn/fixtures/conv1d_plain)

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch09_attention_vs_cnn limit_seq_len_range "--seq-len: 1000 is out of range"
                    --seq-len 1000)
course_expect_limit(ch09_attention_vs_cnn limit_depth_range "--depth: 10000000 is out of range"
                    --depth 10000000)
course_expect_limit(ch09_attention_vs_cnn limit_load_padding_work "the output of --stride 1 --padding 2500 --dilation 1 would take [0-9.e+]+ multiply-adds"
                    --load chapters/09_attention_vs_cnn/fixtures/conv2d_plain --padding 2500)
course_expect_limit(ch09_attention_vs_cnn limit_load_padding_memory "the output of --stride 1 --padding 100000 --dilation 1 would need [0-9.]+ GiB"
                    --load chapters/09_attention_vs_cnn/fixtures/conv2d_plain --padding 100000)
course_expect_limit(ch09_attention_vs_cnn limit_load_dilation_span "the kernel spans 200001 inputs .--dilation 100000 x .K - 1. . 1, K = 3. but the padded input has only 10"
                    --load chapters/09_attention_vs_cnn/fixtures/conv1d_plain --dilation 100000)

# A misnamed optional bias is an error, not a convolution silently without bias (require_no_unread_files).
course_expect_error_special(ch09_attention_vs_cnn load_misnamed_bias copy:bias.npy biases.npy
                            chapters/09_attention_vs_cnn/fixtures/conv1d_plain)
