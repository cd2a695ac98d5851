# Chapter 08 program: bad sizes.
course_expect_error(ch08_attention_for_images patch_not_dividing --size 16 --patch 5)
course_expect_error(ch08_attention_for_images patch_zero --patch 0)
course_expect_error(ch08_attention_for_images size_not_multiple_of_4 --size 18 --patch 3)
course_expect_error(ch08_attention_for_images size_not_a_number --size big)
course_expect_error(ch08_attention_for_images needs_gigabytes --size 4096 --patch 4)

# Limits (common/cli.hpp): each size is refused before any work, with the refused value and the
# reason in the one-line error (course_expect_limit). Ranges whose ends keep the self-checks true say
# why. tools/fuzz_flags.sh finds more.
course_expect_limit(ch08_attention_for_images limit_size_4_patch_4 "--patch 4 does not divide --size / 4 = 1: the house and the sun fill quarters"
                    --size 4 --patch 4)
course_expect_limit(ch08_attention_for_images limit_size_8_patch_4 "--patch 4 does not divide --size / 4 = 2"
                    --size 8 --patch 4)
course_expect_limit(ch08_attention_for_images limit_size_range "--size: 4096 is out of range" --size 4096)
course_expect_limit(ch08_attention_for_images limit_memory "the 9216 patches of --size 96 --patch 1 would need [0-9.]+ GiB"
                    --size 96 --patch 1)
course_expect_limit(ch08_attention_for_images limit_work_with_svg "the 3136 patches of --size 224 --patch 4 would take [0-9.e+]+ multiply-adds"
                    --size 224 --svg ${CMAKE_CURRENT_BINARY_DIR}/limit_svg)
