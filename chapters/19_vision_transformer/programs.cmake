# Chapter 19 program: PyTorch's TinyViT (--load; fixtures by chapters/19_vision_transformer/make_fixtures.py)
# — logits, and with labels.npy the loss and every state_dict entry's gradient, to 1e-9; bad input
# (course_expect_error, course_expect_error_special: tests/CMakeLists.txt).
set(ch19_keys cls pos patch.weight patch.bias norm.weight norm.bias head.weight head.bias)
set(ch19_block_keys self_attn.in_proj_weight self_attn.in_proj_bias self_attn.out_proj.weight self_attn.out_proj.bias
                    linear1.weight linear1.bias linear2.weight linear2.bias norm1.weight norm1.bias norm2.weight
                    norm2.bias)
function(ch19_interop case blocks)
  set(outputs logits.npy loss.npy)
  foreach(key ${ch19_keys})
    list(APPEND outputs ${key}.grad.npy)
  endforeach()
  math(EXPR last "${blocks} - 1")
  foreach(b RANGE ${last})
    foreach(key ${ch19_block_keys})
      list(APPEND outputs blocks.${b}.${key}.grad.npy)
    endforeach()
  endforeach()
  course_interop_test(ch19_vision_transformer chapters/19_vision_transformer/fixtures/${case} ${outputs})
endfunction()
ch19_interop(one_layer 1)
ch19_interop(two_layers_rgb 2)
ch19_interop(patch_is_image 1)
ch19_interop(float32 1)
course_interop_test(ch19_vision_transformer chapters/19_vision_transformer/fixtures/logits_only logits.npy)

# the flags
course_expect_error(ch19_vision_transformer steps_zero --steps 0)
course_expect_error(ch19_vision_transformer steps_not_a_number --steps many)
course_expect_error(ch19_vision_transformer steps_huge --steps 100000)
course_expect_error(ch19_vision_transformer full_steps_huge --full --steps 100000)
course_expect_error(ch19_vision_transformer batch_zero --batch 0)
course_expect_error(ch19_vision_transformer batch_huge --batch 5000)
course_expect_error(ch19_vision_transformer seeds_zero --seeds 0)
course_expect_error(ch19_vision_transformer seeds_eleven --seeds 11)
course_expect_error(ch19_vision_transformer heads_without_load --heads 2)
course_expect_error(ch19_vision_transformer save_without_load --save /tmp/ch19_never_written)

# the data: a missing directory, a file in its place, and truncated or corrupt IDX files made at test
# time (tools/expect_error_special.sh copies the case folder: here a folder of the package's files)
course_expect_error(ch19_vision_transformer data_missing --data /nonexistent)
course_expect_error(ch19_vision_transformer data_is_a_file --data /etc/hostname)
add_test(NAME ch19.bad_input.data_truncated
         COMMAND bash ${PROJECT_SOURCE_DIR}/chapters/19_vision_transformer/bad_data.sh truncated
                 $<TARGET_FILE:ch19_vision_transformer>)
add_test(NAME ch19.bad_input.data_wrong_magic
         COMMAND bash ${PROJECT_SOURCE_DIR}/chapters/19_vision_transformer/bad_data.sh wrong_magic
                 $<TARGET_FILE:ch19_vision_transformer>)
add_test(NAME ch19.bad_input.data_counts_differ
         COMMAND bash ${PROJECT_SOURCE_DIR}/chapters/19_vision_transformer/bad_data.sh counts_differ
                 $<TARGET_FILE:ch19_vision_transformer>)
add_test(NAME ch19.bad_input.data_label_out_of_range
         COMMAND bash ${PROJECT_SOURCE_DIR}/chapters/19_vision_transformer/bad_data.sh label_out_of_range
                 $<TARGET_FILE:ch19_vision_transformer>)
set_tests_properties(ch19.bad_input.data_truncated ch19.bad_input.data_wrong_magic ch19.bad_input.data_counts_differ
                     ch19.bad_input.data_label_out_of_range PROPERTIES LABELS "ch19;bad_input")

# --load: the flags, and malformed files (make_fixtures.py)
set(ch19_one chapters/19_vision_transformer/fixtures/one_layer)
course_expect_error(ch19_vision_transformer load_missing_dir --load no_such_dir)
course_expect_error(ch19_vision_transformer load_with_full --load ${ch19_one} --heads 2 --full)
course_expect_error(ch19_vision_transformer load_with_steps --load ${ch19_one} --heads 2 --steps 5)
course_expect_error(ch19_vision_transformer load_heads_not_dividing --load ${ch19_one} --heads 3)
course_expect_error(ch19_vision_transformer load_heads_zero --load ${ch19_one} --heads 0)
foreach(case images_patch_does_not_divide images_not_square images_wrong_channels images_rank3 labels_out_of_range
             labels_negative labels_float labels_int32 labels_wrong_length cls_wrong_shape cls_wrong_width
             pos_wrong_rows pos_wrong_width patch_bias_wrong patch_not_square head_bias_wrong missing_head_bias
             missing_block_key in_proj_wrong_shape no_blocks missing_images)
  course_expect_error(ch19_vision_transformer load_${case} --load chapters/19_vision_transformer/fixtures/bad/${case}
                      --heads 2)
endforeach()
course_expect_error_special(ch19_vision_transformer load_images_fifo fifo images.npy ${ch19_one} --heads 2)
course_expect_error_special(ch19_vision_transformer load_stray_file copy:cls.npy clss.npy ${ch19_one} --heads 2)
